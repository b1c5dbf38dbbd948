"""Read a Maildir or an mbox and feed every message to the inbound e-mail service, the same
one the webhook calls. Safe to run again: a message applied before counts as a duplicate."""

from __future__ import annotations

import mailbox
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.email_in import inbound_message_receive


class Command(BaseCommand):
    help = "Read e-mail from a Maildir or an mbox into tickets (replies, new requests, held)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--maildir", type=Path, help="a Maildir (with cur/, new/, tmp/)")
        source.add_argument("--mbox", type=Path, help="an mbox file")
        parser.add_argument(
            "--delete",
            action="store_true",
            help="remove each message from the mailbox once it has been handled",
        )

    def handle(self, *args, maildir=None, mbox=None, delete=False, **options):
        path = maildir or mbox
        if maildir is not None:
            if not (maildir / "cur").is_dir() or not (maildir / "new").is_dir():
                raise CommandError(f"{maildir} is not a Maildir (no cur/ and new/)")
            box = mailbox.Maildir(maildir, factory=None, create=False)
        else:
            if not mbox.is_file():
                raise CommandError(f"{mbox} is not an mbox file")
            box = mailbox.mbox(mbox, factory=None, create=False)
        outcomes: Counter[str] = Counter()
        box.lock()
        try:
            for key in list(box.keys()):
                result = inbound_message_receive(raw_bytes=box.get_bytes(key))
                outcomes[result.outcome] += 1
                if options["verbosity"] >= 2:
                    self.stdout.write(f"{key}: {result.outcome} {result.reason}".rstrip())
                if delete:
                    box.remove(key)
            box.flush()
        finally:
            box.unlock()
            box.close()
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"{path}: {sum(outcomes.values())} messages ({summary or 'none'})")
