"""`manage.py read_mailbox`: real Maildir and mbox files written with the mailbox module feed the
same service as the webhook; reading again changes nothing."""

import mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories.tickets import TicketFactory
from tests.tickets.email_messages import build_message
from tickets.email_models import InboundMessage
from tickets.email_tokens import reply_address
from tickets.models import Ticket, TicketMessage


@pytest.fixture
def ticket(tenant_a, tenant_b):
    TicketFactory.create_batch(2, customer=tenant_b.customer)
    return TicketFactory(customer=tenant_a.customer, requester=tenant_a.customer_user.user)


def _messages(tenant_a, ticket):
    user = tenant_a.customer_user.user
    to = reply_address(partner_id=ticket.partner_id, ticket_id=ticket.pk, user_id=user.pk)
    return [
        build_message(sender=user.email, to=to, body="First answer."),
        build_message(sender=user.email, to=to, body="Second answer."),
        build_message(sender="who@unknown.example", to=tenant_a.partner.support_email),
        b"not a message\x00",
    ]


def _run(**options) -> str:
    out = StringIO()
    call_command("read_mailbox", stdout=out, **options)
    return out.getvalue()


def test_a_maildir_is_read_once_however_often_the_command_runs(
    tenant_a, tenant_b, ticket, tmp_path
):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in _messages(tenant_a, ticket):
        box.add(raw)
    box.close()

    first = _run(maildir=tmp_path / "Maildir")
    second = _run(maildir=tmp_path / "Maildir")

    assert "4 messages (2 applied, 1 held, 1 malformed)" in first
    assert "4 messages (3 duplicate, 1 malformed)" in second
    bodies = TicketMessage.objects.for_partner(tenant_a.partner).filter(ticket=ticket)
    assert sorted(bodies.values_list("body", flat=True)) == ["First answer.", "Second answer."]
    assert InboundMessage.objects.for_partner(tenant_a.partner).count() == 3
    assert Ticket.objects.for_partner(tenant_b.partner).count() == 2


def test_an_mbox_is_read_and_emptied_with_delete(tenant_a, tenant_b, ticket, tmp_path):
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path, create=True)
    for raw in _messages(tenant_a, ticket)[:3]:
        box.add(raw)
    box.close()

    output = _run(mbox=path, delete=True)

    assert "3 messages (2 applied, 1 held)" in output
    assert len(mailbox.mbox(path, create=False)) == 0
    assert TicketMessage.objects.for_partner(tenant_a.partner).filter(ticket=ticket).count() == 2


def test_a_path_that_is_not_a_mailbox_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is not a Maildir"):
        _run(maildir=tmp_path)
    with pytest.raises(CommandError, match="is not an mbox"):
        _run(mbox=tmp_path / "missing.mbox")
