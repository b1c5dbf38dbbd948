"""An indirect reseller hands a ticket off to its indirect provider: a linked ticket in the
provider's own desk, replies and statuses mirrored both ways, internal notes never crossing,
and neither side seeing the other's other tickets."""

import pytest
from django.core.files.base import ContentFile

from csp_portal.accounts.models import Customer, Partner
from escalation import tasks
from escalation.models import Channel, Escalation, ProviderLink
from tests.escalation.helpers import escalate
from tests.factories.tickets import AttachmentFactory, MessageFactory, TicketFactory
from tickets import services as ticket_services
from tickets.models import Ticket, TicketAttachment, TicketMessage


@pytest.fixture
def two_tier(tenant_a, tenant_b):
    """Partner B is the indirect provider of partner A."""
    Partner.objects.filter(pk=tenant_b.partner.pk).update(kind="indirect_provider")
    Partner.objects.filter(pk=tenant_a.partner.pk).update(
        kind="indirect_reseller", provider=tenant_b.partner, mpn_id="1234567"
    )
    tenant_a.partner.refresh_from_db()
    tenant_b.partner.refresh_from_db()
    return tenant_a, tenant_b


@pytest.fixture
def handed_off(two_tier):
    reseller, provider = two_tier
    other = TicketFactory(customer=reseller.customer, subject="Reseller's private matter")
    ticket = TicketFactory(
        customer=reseller.customer, requester=reseller.customer_user.user, product="azure"
    )
    MessageFactory(ticket=ticket, body="Azure portal shows an error")
    MessageFactory(
        ticket=ticket, body="Internal: customer is difficult", is_public=False, author=None
    )
    chosen = AttachmentFactory(
        message__ticket=ticket,
        original_name="screenshot.txt",
        file=ContentFile(b"error 42\n", name="screenshot.txt"),
        content_type="text/plain",
        size=9,
    )
    AttachmentFactory(message__ticket=ticket, original_name="private.pdf")
    escalation = escalate(
        reseller,
        ticket,
        channel=Channel.INDIRECT_PROVIDER,
        attachment_ids=[chosen.pk],
        subscription_ref="Azure plan 8a3b",
    )
    return reseller, provider, escalation, ticket, other


def _sync(escalation):
    tasks.escalation_sync.apply(
        kwargs={"partner_id": escalation.partner_id, "escalation_id": escalation.pk}
    )
    return Escalation.objects.for_partner(escalation.partner_id).get(pk=escalation.pk)


def _linked(provider, escalation):
    return Ticket.objects.for_partner(provider.partner).get(pk=escalation.provider_ticket_id)


def test_the_provider_receives_a_linked_ticket_with_only_what_it_needs(handed_off):
    reseller, provider, escalation, ticket, _other = handed_off
    linked = _linked(provider, escalation)
    body = TicketMessage.objects.for_partner(provider.partner).get(ticket=linked).body
    files = TicketAttachment.objects.for_partner(provider.partner).filter(ticket=linked)
    customer = Customer.objects.for_partner(provider.partner).get(pk=linked.customer_id)
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.WAITING_ON_PROVIDER
    assert escalation.status == Escalation.Status.OPEN
    assert linked.subject == f"[{reseller.partner.display_name}] VM unreachable"
    assert ticket.reference in body and "Azure plan 8a3b" in body
    assert "difficult" not in body
    assert [f.original_name for f in files] == ["screenshot.txt"]
    assert customer.microsoft_tenant_id == reseller.customer.microsoft_tenant_id
    assert customer.reseller_mpn_id == "1234567"
    assert (
        ProviderLink.objects.for_partner(provider.partner).get().reseller_id == reseller.partner.pk
    )


def test_the_provider_sees_the_linked_ticket_and_nothing_else_of_the_reseller(handed_off):
    reseller, provider, escalation, ticket, other = handed_off
    client = provider.client(provider.staff["helpdesk_agent"].user)

    page = client.get(f"/staff/tickets/{escalation.provider_ticket_id}/")

    assert page.status_code == 200
    assert "Handed off by your indirect reseller" in page.content.decode()
    assert client.get(f"/staff/tickets/{ticket.pk}/").status_code == 404
    assert client.get(f"/staff/tickets/{other.pk}/").status_code == 404
    reseller_client = reseller.client(reseller.staff["helpdesk_agent"].user)
    assert (
        reseller_client.get(f"/staff/tickets/{escalation.provider_ticket_id}/").status_code == 404
    )


def test_public_replies_mirror_both_ways_and_internal_notes_never_cross(handed_off):
    reseller, provider, escalation, ticket, _other = handed_off
    linked = _linked(provider, escalation)
    reseller_agent = reseller.staff["helpdesk_agent"].user
    provider_agent = provider.staff["helpdesk_agent"].user
    ticket_services.ticket_reply(
        ticket=ticket,
        author=reseller_agent,
        body="Customer tried again: same error",
        status="waiting_on_provider",
    )
    ticket_services.ticket_reply(
        ticket=ticket, author=reseller_agent, body="Reseller secret", public=False
    )
    ticket_services.ticket_reply(
        ticket=linked, author=provider_agent, body="Please share the correlation id"
    )
    ticket_services.ticket_reply(
        ticket=linked, author=provider_agent, body="Provider secret", public=False
    )

    _sync(escalation)
    escalation = _sync(escalation)

    provider_bodies = list(
        TicketMessage.objects.for_partner(provider.partner)
        .filter(ticket=linked)
        .values_list("body", flat=True)
    )
    reseller_bodies = list(
        TicketMessage.objects.for_partner(reseller.partner)
        .filter(ticket=ticket)
        .values_list("body", flat=True)
    )
    assert sum("Customer tried again: same error" in b for b in provider_bodies) == 1
    assert not any("Reseller secret" in b for b in provider_bodies)
    assert sum("Please share the correlation id" in b for b in reseller_bodies) == 1
    assert not any("Provider secret" in b for b in reseller_bodies)
    mirrored = TicketMessage.objects.for_partner(reseller.partner).get(
        ticket=ticket, body__contains="correlation id"
    )
    assert mirrored.is_public is False  # the reseller decides what its customer reads


def test_status_changes_mirror_both_ways(handed_off):
    reseller, provider, escalation, ticket, _other = handed_off
    linked = _linked(provider, escalation)
    provider_agent = provider.staff["helpdesk_agent"].user

    ticket_services.ticket_change(ticket=linked, acting_user=provider_agent, status="resolved")
    escalation = _sync(escalation)
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.RESOLVED
    assert escalation.status == Escalation.Status.CLOSED

    ticket_services.ticket_reopen(ticket=ticket, acting_user=reseller.staff["helpdesk_agent"].user)
    Escalation.objects.for_partner(reseller.partner).filter(pk=escalation.pk).update(status="open")
    escalation = _sync(escalation)
    linked.refresh_from_db()

    assert linked.status == Ticket.Status.OPEN
    assert escalation.status == Escalation.Status.OPEN


def test_a_direct_partner_cannot_hand_off(tenant_a):
    ticket = TicketFactory(customer=tenant_a.customer, product="azure")

    with pytest.raises(Exception, match="not available"):
        escalate(tenant_a, ticket, channel=Channel.INDIRECT_PROVIDER)
