"""Partner Center: the prepared escalation, Microsoft's case number, and tracking through
GET/PATCH servicerequests (open, attention_needed, closed) against the stub."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from escalation import services, tasks
from escalation.models import Channel, Delivery, Escalation
from escalation.stub import add_service_request, update_service_request
from tests.escalation.helpers import cloud_benefit, escalate
from tests.factories.tickets import MessageFactory, TicketFactory
from tickets import services as ticket_services
from tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.usefixtures("broker")
CASE = "616122292874576"


@pytest.fixture
def prepared(tenant_a, tenant_b):
    TicketFactory.create_batch(2, customer=tenant_b.customer, kind="billing")
    ticket = TicketFactory(
        customer=tenant_a.customer,
        kind="billing",
        product="microsoft_365",
        assignee=tenant_a.staff["helpdesk_agent"].user,
    )
    MessageFactory(ticket=ticket, body="We were charged twice")
    return escalate(tenant_a, ticket, channel=Channel.COMMERCIAL, title="Double charge")


def _sync(escalation):
    tasks.escalation_sync.apply(
        kwargs={"partner_id": escalation.partner_id, "escalation_id": escalation.pk}
    )
    return Escalation.objects.for_partner(escalation.partner_id).get(pk=escalation.pk)


def test_a_commercial_issue_is_prepared_for_partner_center(prepared):
    text = services.escalation_prepared_text(prepared)
    ticket = Ticket.objects.for_partner(prepared.partner_id).get(pk=prepared.ticket_id)

    assert prepared.delivery == Delivery.PARTNER_CENTER
    assert prepared.status == Escalation.Status.PREPARED
    assert ticket.status == Ticket.Status.WAITING_ON_MICROSOFT
    assert "Title: Double charge" in text
    assert "Severity: moderate" in text
    assert f"Our reference: {ticket.reference}" in text


def test_a_benefit_escalation_carries_its_ids_and_uses_an_incident(tenant_a):
    benefit = cloud_benefit(tenant_a, incident_allowance=1)
    ticket = TicketFactory(customer=tenant_a.customer, product="microsoft_365")

    escalation = escalate(tenant_a, ticket, channel=Channel.PARTNER_CLOUD_SUPPORT)
    text = services.escalation_prepared_text(escalation)
    benefit.refresh_from_db()

    assert f"Access ID: {benefit.access_id}" in text
    assert f"Contract ID: {benefit.contract_id}" in text
    assert benefit.incidents_used == 1


def test_no_incidents_left_refuses_and_creates_nothing(tenant_a):
    benefit = cloud_benefit(tenant_a, incident_allowance=1, incidents_used=1)
    ticket = TicketFactory(customer=tenant_a.customer, product="microsoft_365")

    with pytest.raises(ValidationError, match="All 1 incidents"):
        escalate(tenant_a, ticket, channel=Channel.PARTNER_CLOUD_SUPPORT)

    benefit.refresh_from_db()
    ticket.refresh_from_db()
    assert benefit.incidents_used == 1
    assert ticket.status == Ticket.Status.NEW
    assert not Escalation.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.parametrize("value", ["ABC-123", "12345", "6161-2229-2874-576x", ""])
def test_a_case_number_in_the_wrong_format_is_refused(prepared, value):
    with pytest.raises(ValidationError, match="6 to 20 digits"):
        services.escalation_record_case_number(
            escalation=prepared, case_number=value, acting_user=None
        )

    prepared.refresh_from_db()
    assert (prepared.status, prepared.case_number) == (Escalation.Status.PREPARED, "")


def test_tracking_cycle(prepared, stub, tenant_a, django_capture_on_commit_callbacks):
    add_service_request(stub.state, id=CASE, status="open")
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_record_case_number(
            escalation=prepared, case_number=f" {CASE} ", acting_user=None
        )
    from tests.tasks import drain_tasks

    drain_tasks()
    escalation = Escalation.objects.for_partner(prepared.partner_id).get(pk=prepared.pk)
    assert (escalation.status, escalation.case_number) == (Escalation.Status.OPEN, CASE)
    assert escalation.microsoft_status == "open"

    ticket = Ticket.objects.for_partner(prepared.partner_id).get(pk=prepared.ticket_id)
    agent = tenant_a.staff["helpdesk_agent"].user
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Invoice copy sent.", status="waiting_on_microsoft"
    )
    update_service_request(
        stub.state, CASE, status="attention_needed", note="Please send the invoice number."
    )
    with django_capture_on_commit_callbacks(execute=True):
        escalation = _sync(escalation)
    drain_tasks()

    notes = TicketMessage.objects.for_partner(prepared.partner_id).filter(
        ticket=ticket, author=None, is_public=False
    )
    assert escalation.status == Escalation.Status.ATTENTION_NEEDED
    assert "Invoice copy sent." in [n["text"] for n in stub.state.service_requests[CASE]["notes"]]
    assert any("Please send the invoice number." in n.body for n in notes)
    assert not any("Invoice copy sent." in n.body for n in notes)
    assert [m.to for m in mail.outbox if "attention" in m.subject] == [[agent.email]]

    update_service_request(stub.state, CASE, status="closed")
    escalation = _sync(escalation)
    ticket.refresh_from_db()

    assert escalation.status == Escalation.Status.CLOSED
    assert ticket.status == Ticket.Status.OPEN
    assert len(stub.state.service_requests[CASE]["notes"]) == 2
