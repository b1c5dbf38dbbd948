"""Azure support tickets on behalf of the CSP customer, against the local stub: create (202 +
operation), 429 with Retry-After, 500 then success, timeouts, duplicate deliveries, a
problem classification Microsoft removed, and the two-way sync."""

import json
import time

import pytest

from escalation import tasks
from escalation.models import Escalation, ExchangedMessage
from escalation.stub import add_microsoft_communication
from tests.escalation.helpers import CLASSIFICATION, SUBSCRIPTION, azure_ticket, escalate
from tests.tasks import drain_tasks
from tickets import services as ticket_services
from tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.usefixtures("broker")


@pytest.fixture
def escalated(tenant_a, tenant_b, stub, django_capture_on_commit_callbacks):
    azure_ticket(tenant_b)  # partner B has its own, untouched
    ticket = azure_ticket(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        escalation = escalate(tenant_a, ticket)
    return escalation


def _reload(escalation):
    return Escalation.objects.for_partner(escalation.partner_id).get(pk=escalation.pk)


def test_escalating_queues_the_ticket_and_waits_on_microsoft(escalated):
    ticket = Ticket.objects.for_partner(escalated.partner_id).get(pk=escalated.ticket_id)

    assert escalated.status == Escalation.Status.QUEUED
    assert ticket.status == Ticket.Status.WAITING_ON_MICROSOFT


def test_the_task_creates_one_azure_ticket_on_behalf_of_the_customer(escalated, stub):
    taken = drain_tasks()

    escalation = _reload(escalated)
    puts = stub.requests_to("/supportTickets/", "PUT")
    assert (
        "escalation.tasks.escalation_azure_create",
        {"partner_id": escalated.partner_id, "escalation_id": escalated.pk},
    ) in taken
    assert escalation.status == Escalation.Status.OPEN
    assert (
        escalation.support_ticket_id
        == stub.state.tickets[escalation.support_ticket_name]["properties"]["supportTicketId"]
    )
    assert len(puts) == 1
    method, path, headers = puts[0]
    assert (
        path
        == f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Support/supportTickets/{escalation.support_ticket_name}"
    )
    assert headers["authorization"].startswith("Bearer stub.")
    assert headers["x-ms-authorization-auxiliary"].startswith("Bearer stub.partner-tenant.")
    assert str(escalation.customer.microsoft_tenant_id) in headers["authorization"]
    assert headers["ms-requestid"] == str(escalation.request_id)
    properties = stub.state.tickets[escalation.support_ticket_name]["properties"]
    assert properties["problemClassificationId"] == CLASSIFICATION
    assert properties["contactDetails"]["primaryEmailAddress"] == "ann@partner.example"
    assert stub.requests_to("/operationsStatus/", "GET")


def test_429_is_retried_after_retry_after(escalated, stub):
    stub.fail(429, retry_after=1, path="/supportTickets/", count=1)
    started = time.monotonic()

    drain_tasks()

    assert time.monotonic() - started >= 1.0
    assert _reload(escalated).status == Escalation.Status.OPEN
    assert stub.state.ticket_creates == 1


def test_500_then_success(escalated, stub):
    stub.fail(500, path="/supportTickets/", count=2)

    drain_tasks()

    assert _reload(escalated).status == Escalation.Status.OPEN
    assert stub.state.ticket_creates == 1


def test_a_create_that_times_out_is_retried_without_a_second_ticket(escalated, stub, settings):
    settings.MICROSOFT_TIMEOUT_SECONDS = 0.3
    stub.slow(0.8, path="/supportTickets/", count=2)

    drain_tasks()

    assert _reload(escalated).status == Escalation.Status.OPEN
    time.sleep(0.6)  # let the stub finish the calls the client gave up on
    assert stub.state.ticket_creates == 1


def test_microsoft_unreachable_leaves_it_queued_with_the_error_shown(
    escalated, stub, settings, tenant_a
):
    settings.MICROSOFT_TIMEOUT_SECONDS = 0.2
    settings.MICROSOFT_MAX_ATTEMPTS = 2
    stub.slow(0.5, path="/supportTickets/", count=10)

    drain_tasks()

    escalation = _reload(escalated)
    assert escalation.status == Escalation.Status.QUEUED
    assert escalation.next_attempt_at is not None
    assert "unreachable" in escalation.last_error
    page = tenant_a.client(tenant_a.staff["helpdesk_agent"].user).get(
        f"/staff/tickets/{escalation.ticket_id}/"
    )
    assert "Microsoft could not be reached" in page.content.decode()


def test_a_duplicate_delivery_creates_one_ticket(escalated, stub):
    for _ in range(2):
        tasks.escalation_azure_create.delay(
            partner_id=escalated.partner_id, escalation_id=escalated.pk
        )

    drain_tasks()

    assert stub.state.ticket_creates == 1
    assert len(stub.requests_to("/supportTickets/", "PUT")) == 1
    assert _reload(escalated).status == Escalation.Status.OPEN


def test_a_resend_after_a_lost_answer_adopts_the_ticket_microsoft_made(escalated, stub):
    drain_tasks()
    Escalation.objects.for_partner(escalated.partner_id).filter(pk=escalated.pk).update(
        status=Escalation.Status.QUEUED, support_ticket_id=""
    )

    tasks.escalation_azure_create.apply(
        kwargs={"partner_id": escalated.partner_id, "escalation_id": escalated.pk}
    )

    assert stub.state.ticket_creates == 1
    assert _reload(escalated).support_ticket_id


def test_a_removed_problem_classification_fails_plainly_and_sends_nothing(escalated, stub):
    stub.state.removed_classifications.add("problemClassification_guid")

    drain_tasks()

    escalation = _reload(escalated)
    ticket = Ticket.objects.for_partner(escalation.partner_id).get(pk=escalation.ticket_id)
    notes = TicketMessage.objects.for_partner(escalation.partner_id).filter(ticket=ticket)
    assert escalation.status == Escalation.Status.FAILED
    assert "no longer exists" in escalation.last_error
    assert stub.requests_to("/supportTickets/", "PUT") == []
    assert ticket.status == Ticket.Status.OPEN
    assert escalation.description.startswith("The VM does not answer")
    assert notes.filter(body="The VM does not answer on SSH").exists()


def test_sync_both_ways_and_closing(escalated, stub, tenant_a):
    drain_tasks()
    escalation = _reload(escalated)
    ticket = Ticket.objects.for_partner(escalation.partner_id).get(pk=escalation.ticket_id)
    agent = tenant_a.staff["helpdesk_agent"].user
    ticket_services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="Logs attached in the portal.",
        status="waiting_on_microsoft",
    )
    ticket_services.ticket_reply(
        ticket=ticket, author=agent, body="Secret internal guess", public=False
    )
    add_microsoft_communication(
        stub.state, escalation.support_ticket_name, subject="Question", body="Which region?"
    )

    tasks.escalation_sync.apply(
        kwargs={"partner_id": escalation.partner_id, "escalation_id": escalation.pk}
    )
    tasks.escalation_sync.apply(
        kwargs={"partner_id": escalation.partner_id, "escalation_id": escalation.pk}
    )

    sent = [
        c["properties"]["body"] for c in stub.state.communications[escalation.support_ticket_name]
    ]
    notes = TicketMessage.objects.for_partner(escalation.partner_id).filter(
        ticket=ticket, is_public=False, author=None
    )
    assert sent.count("Logs attached in the portal.") == 1
    assert "Secret internal guess" not in sent
    assert [n.body for n in notes if "Which region?" in n.body] and len(
        [n for n in notes if "Which region?" in n.body]
    ) == 1
    assert (
        ExchangedMessage.objects.for_partner(escalation.partner_id).filter(ticket=ticket).count()
        == 2
    )

    stub.state.tickets[escalation.support_ticket_name]["properties"]["status"] = "Closed"
    tasks.escalation_sync.apply(
        kwargs={"partner_id": escalation.partner_id, "escalation_id": escalation.pk}
    )

    escalation = _reload(escalation)
    ticket.refresh_from_db()
    assert escalation.status == Escalation.Status.CLOSED
    assert escalation.closed_at is not None
    assert ticket.status == Ticket.Status.OPEN


def test_the_beat_fan_out_sends_sync_tasks_per_partner(escalated, stub):
    drain_tasks()

    tasks.escalation_sync_fan_out.apply()
    taken = drain_tasks(run=False)

    assert taken == [
        (
            "escalation.tasks.escalation_sync",
            {"partner_id": escalated.partner_id, "escalation_id": escalated.pk},
        )
    ]


def test_problem_classifications_are_cached_for_the_form(tenant_a, stub):
    tasks.azure_catalog_refresh.apply(kwargs={"partner_id": tenant_a.partner.pk})

    from escalation.selectors import azure_catalog

    catalog = azure_catalog(partner=tenant_a.partner)
    assert CLASSIFICATION in {c["id"] for c in catalog}
    assert json.dumps(catalog)
