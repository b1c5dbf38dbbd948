"""The escalation panel on the ticket page, escalating through the page, bad input, the
entitlements page and the report."""

import re

import pytest

from escalation.models import Channel, Escalation, SupportContract
from tests.escalation.helpers import CLASSIFICATION, SUBSCRIPTION, azure_ticket, escalate
from tests.factories.escalation import BenefitFactory, ContractFactory, EscalationFactory
from tests.factories.tickets import TicketFactory
from tickets.models import Ticket


def _form(**overrides):
    data = {
        "channel": "premier_unified",
        "severity": "moderate",
        "title": "VM unreachable",
        "description": "No SSH since 09:00",
        "contact_name": "Ann",
        "contact_email": "ann@partner.example",
        "azure_subscription_id": SUBSCRIPTION,
        "problem_classification_id": CLASSIFICATION,
    }
    data.update(overrides)
    return data


@pytest.fixture
def catalog(tenant_a):
    from django.core.cache import cache

    from escalation.selectors import azure_catalog_key

    cache.set(
        azure_catalog_key(tenant_a.partner.pk),
        [{"service_id": "s", "service": "VM Linux", "id": CLASSIFICATION, "name": "SSH"}],
    )


def test_the_panel_shows_the_routers_channels_with_the_preferred_one(tenant_a, tenant_b, catalog):
    ticket = azure_ticket(tenant_a)
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    page = client.get(f"/staff/tickets/{ticket.pk}/").content.decode()
    form_page = client.get(f"/staff/escalations/tickets/{ticket.pk}/escalate/").content.decode()

    assert "Escalation" in page and "preferred" in page
    assert "No Advanced Support for Partners contract is recorded." in page
    # The form is on the escalation page the panel links to, the preferred channel chosen.
    assert f'href="/staff/escalations/tickets/{ticket.pk}/escalate/"' in page
    assert 'name="channel"' not in page
    assert "preferred" in form_page and "No Advanced Support" in form_page
    preferred = re.search(r'<input[^>]*name="channel"[^>]*checked[^>]*>', form_page)
    assert preferred is not None


def test_the_panel_shows_a_changed_entitlement_at_once(tenant_a, catalog):
    """The panel's entitlements are cached; a saved contract and a taken incident show on the
    next view all the same."""
    ticket = azure_ticket(tenant_a)
    other = azure_ticket(tenant_a)
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)
    no_advanced = "No Advanced Support for Partners contract is recorded."
    assert no_advanced in client.get(f"/staff/tickets/{ticket.pk}/").content.decode()

    ContractFactory(partner=tenant_a.partner, kind=SupportContract.Kind.ADVANCED_SUPPORT)
    assert no_advanced not in client.get(f"/staff/tickets/{ticket.pk}/").content.decode()

    BenefitFactory(partner=tenant_a.partner, incident_allowance=1)
    assert "All 1 incidents" not in client.get(f"/staff/tickets/{other.pk}/").content.decode()
    escalate(tenant_a, ticket, channel=Channel.PARTNER_CLOUD_SUPPORT)  # a conditional UPDATE
    assert "All 1 incidents" in client.get(f"/staff/tickets/{other.pk}/").content.decode()


def test_a_sales_agent_sees_the_channels_but_cannot_escalate(tenant_a, catalog):
    ticket = azure_ticket(tenant_a)
    client = tenant_a.client(tenant_a.staff["sales_agent"].user)

    page = client.get(f"/staff/tickets/{ticket.pk}/").content.decode()
    response = client.post(f"/staff/escalations/tickets/{ticket.pk}/escalate/", _form())

    assert "preferred" in page and "Escalate…" not in page
    assert response.status_code == 403
    assert not Escalation.objects.for_partner(tenant_a.partner).exists()


def test_escalating_from_the_page(tenant_a, catalog, django_capture_on_commit_callbacks):
    ticket = azure_ticket(tenant_a)
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/staff/escalations/tickets/{ticket.pk}/escalate/", _form())

    ticket.refresh_from_db()
    assert response.status_code == 302
    assert ticket.status == Ticket.Status.WAITING_ON_MICROSOFT
    assert Escalation.objects.for_partner(tenant_a.partner).get().status == "queued"
    assert len(callbacks) >= 1


def test_a_closed_ticket_cannot_be_escalated(tenant_a, catalog):
    ticket = azure_ticket(tenant_a, status="closed")
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    response = client.post(f"/staff/escalations/tickets/{ticket.pk}/escalate/", _form())

    assert response.status_code == 400
    assert "reopen it before escalating" in response.content.decode()
    assert "No SSH since 09:00" in response.content.decode()  # what was typed is kept
    assert not Escalation.objects.for_partner(tenant_a.partner).exists()


def test_another_partners_ticket_answers_404(tenant_a, tenant_b, catalog):
    ticket = azure_ticket(tenant_b)
    client = tenant_a.client(tenant_a.admin.user)

    response = client.post(f"/staff/escalations/tickets/{ticket.pk}/escalate/", _form())

    ticket.refresh_from_db()
    assert response.status_code == 404
    assert ticket.status == Ticket.Status.NEW
    assert not Escalation.objects.for_partner(tenant_b.partner).exists()


def test_an_expired_contract_is_refused_plainly(tenant_a, catalog):
    ticket = TicketFactory(customer=tenant_a.customer, product="azure")
    ContractFactory(partner=tenant_a.partner, valid_to="2021-12-31")
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    page = client.get(f"/staff/tickets/{ticket.pk}/").content.decode()
    response = client.post(f"/staff/escalations/tickets/{ticket.pk}/escalate/", _form())

    assert "expired on 2021-12-31" in page
    assert "No support channel is open to you" in page
    assert response.status_code == 400
    assert not Escalation.objects.for_partner(tenant_a.partner).exists()


def test_a_problem_classification_no_longer_listed_is_refused(tenant_a, catalog, stub):
    ticket = azure_ticket(tenant_a)
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)
    gone = CLASSIFICATION.replace("problemClassification_guid", "retired")

    response = client.post(
        f"/staff/escalations/tickets/{ticket.pk}/escalate/", _form(problem_classification_id=gone)
    )

    assert response.status_code == 400
    assert "no longer exists at Microsoft" in response.content.decode()
    assert not Escalation.objects.for_partner(tenant_a.partner).exists()
    assert stub.state.requests == []


def test_a_wrong_case_number_is_refused_on_the_page(tenant_a):
    escalation = EscalationFactory(ticket=TicketFactory(customer=tenant_a.customer, kind="billing"))
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    response = client.post(
        f"/staff/escalations/{escalation.pk}/case-number/", {"case_number": "SR-12"}, follow=True
    )

    escalation.refresh_from_db()
    assert "6 to 20 digits" in response.content.decode()
    assert escalation.case_number == ""


def test_the_prepared_escalation_downloads_as_text(tenant_a):
    escalation = EscalationFactory(ticket=TicketFactory(customer=tenant_a.customer, kind="billing"))
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    response = client.get(f"/staff/escalations/{escalation.pk}/prepared.txt")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert escalation.title in response.content.decode()


def test_global_admins_record_entitlements(tenant_a, tenant_b):
    ContractFactory(partner=tenant_b.partner)
    data = {
        "contracts-TOTAL_FORMS": "1",
        "contracts-INITIAL_FORMS": "0",
        "contracts-0-kind": "advanced_support",
        "contracts-0-contract_id": "ASP-9",
        "contracts-0-valid_from": "2025-01-01",
        "contracts-0-valid_to": "2025-12-31",
        "benefits-TOTAL_FORMS": "0",
        "benefits-INITIAL_FORMS": "0",
    }

    denied = tenant_a.client(tenant_a.staff["helpdesk_agent"].user).post(
        "/staff/escalations/entitlements/", data
    )
    saved = tenant_a.client(tenant_a.admin.user).post("/staff/escalations/entitlements/", data)

    assert denied.status_code == 403
    assert saved.status_code == 302
    assert list(
        SupportContract.objects.for_partner(tenant_a.partner).values_list("contract_id", flat=True)
    ) == ["ASP-9"]
    assert SupportContract.objects.for_partner(tenant_b.partner).count() == 1


@pytest.mark.parametrize("escalations", [1, 3])
def test_the_report_counts_per_partner_and_customer(
    tenant_a, tenant_b, escalations, django_assert_max_num_queries
):
    for _ in range(escalations):
        EscalationFactory(ticket=TicketFactory(customer=tenant_a.customer, kind="billing"))
    EscalationFactory(ticket=TicketFactory(customer=tenant_b.customer, kind="billing"))
    client = tenant_a.client(tenant_a.admin.user)

    with django_assert_max_num_queries(20):
        response = client.get("/staff/escalations/report/")

    assert response.context["escalations"] == escalations
    assert response.context["by_channel"][0]["total"] == escalations
    assert [
        r["escalations"]
        for r in response.context["per_customer"]
        if r["customer_id"] == tenant_a.customer.pk
    ] == [escalations]


def test_the_channel_list_marks_each_channel_and_escapes_its_words():
    from django.utils import translation

    from escalation.routing import ChannelOption
    from escalation.templatetags.escalation import channel_options

    options = [
        ChannelOption(
            channel="partner_cloud_support", eligible=True, reason="Covered.", preferred=True
        ),
        ChannelOption(
            channel="premier_unified",
            eligible=False,
            reason="No <b>contract</b>.",
            need="A Premier & Unified contract",
        ),
    ]

    with translation.override("en"):
        html = str(channel_options(options))
    with translation.override("nl"):
        dutch = str(channel_options(options))

    first, second = html.split("<li")[1:]
    assert 'class="mb-2"' in first and "✓" in first and "Eligible:" in first
    assert "<strong>Partner Cloud Support</strong>" in first and ">preferred</span>" in first
    assert 'class="mb-2 text-muted"' in second and "✗" in second and "Not eligible:" in second
    assert "preferred" not in second
    assert "No &lt;b&gt;contract&lt;/b&gt;." in second
    assert "<em>Would need:</em> A Premier &amp; Unified contract" in second
    assert html.startswith('<ol class="escalation-options') and html.endswith("</ol>")
    assert "Komt in aanmerking:" in dutch and "<em>Zou nodig hebben:</em>" in dutch


def test_the_panel_lists_the_active_escalations_events_and_no_other(tenant_a, tenant_b):
    from escalation.models import EscalationEvent

    ticket = TicketFactory(customer=tenant_a.customer)
    old = EscalationFactory(ticket=ticket, status=Escalation.Status.CLOSED)
    active = EscalationFactory(ticket=ticket)
    elsewhere = EscalationFactory(ticket=TicketFactory(customer=tenant_a.customer))
    foreign = EscalationFactory(ticket=TicketFactory(customer=tenant_b.customer))

    def event(escalation, detail):
        EscalationEvent.objects.create(
            partner=escalation.partner,
            escalation=escalation,
            kind=EscalationEvent.Kind.STATUS,
            detail=detail,
        )

    event(active, "first step")
    event(old, "from the closed one")
    event(active, "second step")
    event(elsewhere, "another ticket's")
    event(foreign, "another partner's")

    page = tenant_a.client(tenant_a.admin.user).get(f"/staff/tickets/{ticket.pk}/")
    panel = page.content.decode().split('id="escalation"')[1].split("</section>")[0]

    assert panel.index("first step") < panel.index("second step")
    for detail in ("from the closed one", "another ticket's", "another partner's"):
        assert detail not in panel
    assert active.get_channel_display() in panel
