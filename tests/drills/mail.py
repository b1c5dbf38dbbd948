"""Read what the file e-mail backend wrote (one file per connection, messages separated by a
line of dashes)."""

from __future__ import annotations

from collections import Counter
from email import message_from_string
from email.header import decode_header, make_header
from pathlib import Path

SEPARATOR = "\n" + "-" * 79 + "\n"


def subjects(directory: Path) -> Counter:
    found: Counter = Counter()
    if not directory.exists():
        return found
    for path in sorted(directory.iterdir()):
        for chunk in path.read_text(errors="replace").split(SEPARATOR):
            if not chunk.strip():
                continue
            message = message_from_string(chunk.lstrip("\n"))
            found[str(make_header(decode_header(message.get("Subject", ""))))] += 1
    return found
