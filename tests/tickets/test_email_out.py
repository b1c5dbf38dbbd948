"""Outgoing notifications: multipart in the partner's branding and the recipient's language,
sent after commit through the real broker, with a Reply-To whose token routes the answer back
(and verifies only as issued)."""

from datetime import timedelta
from email.utils import parseaddr

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from tests.factories.tickets import TicketFactory
from tests.tasks import drain_tasks, purge_tasks
from tests.tickets.email_messages import build_message
from tickets import services
from tickets.email_tokens import (
    ReplyTokenExpired,
    ReplyTokenInvalid,
    reply_address,
    reply_token_make,
    reply_token_read,
    reply_tokens_in,
)
from tickets.models import Ticket, TicketMessage


@pytest.fixture
def ticket(tenant_a, tenant_b):
    TicketFactory.create_batch(3, customer=tenant_b.customer)
    return TicketFactory(customer=tenant_a.customer, requester=tenant_a.customer_user.user)


def _agent_reply(ticket, tenant, capture, body="Please **restart** the VM."):
    purge_tasks()
    with capture(execute=True):
        services.ticket_reply(ticket=ticket, author=tenant.staff["helpdesk_agent"].user, body=body)
    drain_tasks()
    return [m for m in mail.outbox if m.to == [tenant.customer_user.user.email]]


def test_an_agent_reply_is_e_mailed_multipart_in_the_partners_branding(
    tenant_a, ticket, django_capture_on_commit_callbacks
):
    partner = tenant_a.partner
    partner.primary_colour = "#aa3300"
    partner.save()

    sent = _agent_reply(ticket, tenant_a, django_capture_on_commit_callbacks)

    reply = sent[0]
    assert parseaddr(reply.from_email)[0] == partner.display_name
    assert reply.subject == f"[{ticket.reference}] {ticket.subject}"
    assert "Please **restart** the VM." in reply.body
    html, mime = reply.alternatives[0]
    assert mime == "text/html"
    assert "#aa3300" in html
    assert partner.display_name in html
    assert "<strong>restart</strong>" in html
    assert reply.message().is_multipart()
    assert reply.extra_headers["Auto-Submitted"] == "auto-generated"
    assert (
        reply.extra_headers["References"] == f"<ticket-{partner.pk}-{ticket.pk}@inbound.localhost>"
    )


def test_the_reply_to_carries_a_token_that_verifies_to_the_ticket_and_recipient(
    tenant_a, ticket, django_capture_on_commit_callbacks
):
    sent = _agent_reply(ticket, tenant_a, django_capture_on_commit_callbacks)

    [address] = sent[0].reply_to
    local, domain = address.split("@")
    claims = reply_token_read(reply_tokens_in([address])[0])
    assert domain == "inbound.localhost"
    assert local.startswith("reply+") and len(local) <= 64
    assert (claims.partner_id, claims.ticket_id, claims.user_id) == (
        tenant_a.partner.pk,
        ticket.pk,
        tenant_a.customer_user.user.pk,
    )


def test_answering_the_notification_lands_on_the_ticket(
    settings, tenant_a, ticket, django_capture_on_commit_callbacks
):
    settings.INBOUND_EMAIL_SECRET = "round-trip"
    sent = _agent_reply(ticket, tenant_a, django_capture_on_commit_callbacks)
    answer = build_message(
        sender=tenant_a.customer_user.user.email,
        to=sent[0].reply_to[0],
        body=f"It starts again.\n\nOn Tue, Alpha wrote:\n> {sent[0].body.splitlines()[0]}\n",
    )

    response = Client().post(
        "/inbound/email/",
        data=answer,
        content_type="message/rfc822",
        HTTP_X_INBOUND_SECRET="round-trip",
    )

    assert response.json()["outcome"] == "applied"
    last = TicketMessage.objects.for_partner(tenant_a.partner).filter(ticket=ticket).latest("pk")
    assert last.body == "It starts again."


def test_a_dutch_customer_is_written_to_in_dutch(
    tenant_a, ticket, django_capture_on_commit_callbacks
):
    customer = tenant_a.customer
    customer.language = "nl"
    customer.save()

    sent = _agent_reply(ticket, tenant_a, django_capture_on_commit_callbacks)

    assert "heeft gereageerd:" in sent[0].body
    assert "Bekijk de aanvraag en reageer" in sent[0].alternatives[0][0]
    assert sent[0].extra_headers["Content-Language"] == "nl"


def test_the_new_request_acknowledgement_is_sent_with_the_logo_of_the_partners_portal(
    tenant_a, tenant_b, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    partner = tenant_a.partner
    partner.logo.save("logo.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    purge_tasks()

    with django_capture_on_commit_callbacks(execute=True):
        created = services.ticket_create(
            partner=partner,
            customer=tenant_a.customer,
            requester=tenant_a.customer_user.user,
            kind=Ticket.Kind.TECHNICAL,
            product=Ticket.Product.AZURE,
            subject="VM does not start",
            body="It fails to boot.",
            acting_user=tenant_a.customer_user.user,
        )
    drain_tasks()

    [acknowledgement] = [m for m in mail.outbox if m.to == [tenant_a.customer_user.user.email]]
    assert f"Request {created.reference} was received." in acknowledgement.body
    assert "/p/alpha/branding/logo" in acknowledgement.alternatives[0][0]


def test_the_support_address_gets_no_reply_token(
    tenant_a, ticket, django_capture_on_commit_callbacks
):
    purge_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, author=tenant_a.customer_user.user, body="Any news?")
    drain_tasks()

    [to_desk] = [m for m in mail.outbox if m.to == [tenant_a.partner.support_email]]
    assert to_desk.reply_to == [tenant_a.partner.support_email]


@pytest.mark.parametrize("ticket_id", [1, 4242, 2**31])
def test_a_token_changed_in_any_character_does_not_verify(ticket_id):
    token = reply_token_make(partner_id=3, ticket_id=ticket_id, user_id=77)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"

    changed = [
        token[:position] + other + token[position + 1 :]
        for position in range(len(token))
        for other in alphabet
        if other != token[position]
    ]

    for forged in changed:
        with pytest.raises(ReplyTokenInvalid):
            reply_token_read(forged)
    assert reply_token_read(token.upper()).ticket_id == ticket_id


def test_a_token_expires_after_the_configured_age(settings):
    settings.INBOUND_REPLY_TOKEN_MAX_AGE_DAYS = 30
    token = reply_token_make(partner_id=3, ticket_id=4242, user_id=77)

    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert reply_token_read(token).ticket_id == 4242
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        with pytest.raises(ReplyTokenExpired) as expired:
            reply_token_read(token)

    assert expired.value.token.partner_id == 3


def test_a_token_survives_a_key_rotation_and_not_a_foreign_key(settings):
    token = reply_token_make(partner_id=3, ticket_id=4242, user_id=77)
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 50, [old_key]
    assert reply_token_read(token).user_id == 77
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(ReplyTokenInvalid):
        reply_token_read(token)


def test_reply_addresses_stay_short_for_large_ids():
    address = reply_address(partner_id=2**20, ticket_id=2**31, user_id=2**31)

    assert len(address.split("@")[0]) <= 64
