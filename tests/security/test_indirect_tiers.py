"""One indirect provider, two resellers: the provider sees what each reseller hands off —
the linked ticket in its own desk — and nothing else of theirs; a reseller sees nothing of the
provider's desk and nothing of the provider's other reseller, by page, by id and by API."""

import pytest

from csp_portal.accounts.models import Customer, Partner
from escalation.models import Channel
from tests.api.conftest import api_client, issue
from tests.conftest import Tenant
from tests.escalation.helpers import escalate
from tests.factories.tickets import MessageFactory, TicketFactory
from tickets.models import Ticket


def _reseller_of(tenant, provider, mpn_id):
    Partner.objects.filter(pk=tenant.partner.pk).update(
        kind="indirect_reseller", provider=provider.partner, mpn_id=mpn_id
    )
    tenant.partner.refresh_from_db()


def _hand_off(reseller, subject):
    private = TicketFactory(customer=reseller.customer, subject=f"{subject}: private matter")
    ticket = TicketFactory(
        customer=reseller.customer,
        requester=reseller.customer_user.user,
        product="azure",
        subject=subject,
    )
    MessageFactory(ticket=ticket, body=f"{subject}: the Azure portal shows an error")
    escalation = escalate(reseller, ticket, channel=Channel.INDIRECT_PROVIDER, title=subject)
    return ticket, private, escalation


@pytest.fixture
def tiers(tenant_a, tenant_b):
    provider = tenant_b
    Partner.objects.filter(pk=provider.partner.pk).update(kind="indirect_provider")
    provider.partner.refresh_from_db()
    first, second = tenant_a, Tenant("charlie", extra_customers=1)
    _reseller_of(first, provider, "1111111")
    _reseller_of(second, provider, "2222222")
    provider_own = TicketFactory(customer=provider.customer, subject="Provider's own customer")
    return {
        "provider": provider,
        "provider_own": provider_own,
        "first": (first, *_hand_off(first, "Alpha VM down")),
        "second": (second, *_hand_off(second, "Charlie VM down")),
    }


def _agent(tenant):
    return tenant.client(tenant.staff["helpdesk_agent"].user)


def test_the_provider_sees_each_hand_off_and_nothing_else_of_its_resellers(tiers):
    provider = tiers["provider"]
    client = _agent(provider)
    linked = list(Ticket.objects.for_partner(provider.partner).exclude(customer=provider.customer))

    listing = client.get("/staff/tickets/").content.decode()

    assert sorted(t.pk for t in linked) == sorted(
        tiers[r][3].provider_ticket_id for r in ("first", "second")
    )
    for key in ("first", "second"):
        reseller, ticket, private, escalation = tiers[key]
        assert client.get(f"/staff/tickets/{escalation.provider_ticket_id}/").status_code == 200
        assert "private matter" not in listing
        for url in (
            f"/staff/tickets/{ticket.pk}/",
            f"/staff/tickets/{private.pk}/",
            f"/staff/customers/{reseller.customer.pk}/",
            f"/staff/escalations/{escalation.pk}/prepared.txt",
        ):
            assert client.get(url).status_code == 404, url
        # The reseller's own workspace does not exist for the provider's staff.
        assert (
            reseller.client(provider.staff["helpdesk_agent"].user).get("/staff/").status_code == 404
        )


def test_a_reseller_sees_nothing_of_the_provider_or_the_other_reseller(tiers):
    provider = tiers["provider"]
    first, _ticket, _private, escalation = tiers["first"]
    second, second_ticket, second_private, second_escalation = tiers["second"]
    client = _agent(first)
    own = first.client(first.admin.user)

    pages = (
        own.get("/staff/tickets/").content.decode() + own.get("/staff/customers/").content.decode()
    )

    assert "Charlie" not in pages and "Provider's own customer" not in pages
    assert provider.customer.company_name not in pages
    for url in (
        f"/staff/tickets/{escalation.provider_ticket_id}/",
        f"/staff/tickets/{second_escalation.provider_ticket_id}/",
        f"/staff/tickets/{tiers['provider_own'].pk}/",
        f"/staff/tickets/{second_ticket.pk}/",
        f"/staff/tickets/{second_private.pk}/",
        f"/staff/customers/{second.customer.pk}/",
        f"/staff/customers/{provider.customer.pk}/",
        f"/staff/escalations/{second_escalation.pk}/prepared.txt",
    ):
        assert client.get(url).status_code == 404, url
        assert own.get(url).status_code == 404, url
    for portal in (provider, second):
        assert portal.client(first.admin.user).get("/staff/").status_code == 404
        assert portal.client(first.customer_admin.user).get("/requests/").status_code == 404


def test_the_provider_cannot_reach_one_resellers_hand_off_through_the_other(tiers):
    """The provider's customer records for the two resellers' customers are separate rows of
    the provider, each linked to its own reseller only."""
    provider = tiers["provider"]
    first_linked = Ticket.objects.for_partner(provider.partner).get(
        pk=tiers["first"][3].provider_ticket_id
    )
    second_linked = Ticket.objects.for_partner(provider.partner).get(
        pk=tiers["second"][3].provider_ticket_id
    )
    customers = Customer.objects.for_partner(provider.partner)

    assert first_linked.customer_id != second_linked.customer_id
    assert customers.get(pk=first_linked.customer_id).reseller_mpn_id == "1111111"
    assert customers.get(pk=second_linked.customer_id).reseller_mpn_id == "2222222"


def test_a_resellers_api_token_lists_only_its_own_rows(tiers):
    provider = tiers["provider"]
    first, ticket, private, _escalation = tiers["first"]
    second = tiers["second"][0]
    _, key = issue(first, first.admin.user)
    client = api_client(first.partner, key)

    tickets = client.get("/api/v1/tickets/?page_size=100").json()["results"]
    customers = client.get("/api/v1/customers/?page_size=100").json()["results"]

    assert {t["id"] for t in tickets} == set(
        Ticket.objects.for_partner(first.partner).values_list("pk", flat=True)
    )
    assert {ticket.pk, private.pk} <= {t["id"] for t in tickets}
    assert {c["id"] for c in customers} == set(
        Customer.objects.for_partner(first.partner).values_list("pk", flat=True)
    )
    for other in (provider, second):
        foreign = Ticket.objects.for_partner(other.partner).values_list("pk", flat=True)
        for pk in foreign:
            assert client.get(f"/api/v1/tickets/{pk}/").status_code == 404
        # The token is the first reseller's: elsewhere it is no token at all.
        assert api_client(other.partner, key).get("/api/v1/tickets/").status_code == 401
