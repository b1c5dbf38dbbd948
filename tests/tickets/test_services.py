"""Ticket services: numbering, the conversation's rules, the status machine, rating and
merging. Two partners with different numbers of tickets, so a leak changes a count."""

import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from csp_portal.accounts.tenancy import partner_scope
from tests.factories.tickets import TicketFactory
from tests.tasks import drain_tasks, purge_tasks
from tickets import services
from tickets.models import Ticket, TicketEvent, TicketMessage

Status = Ticket.Status


def _create(tenant, **overrides):
    arguments = {
        "partner": tenant.partner,
        "customer": tenant.customer,
        "requester": tenant.customer_user.user,
        "kind": Ticket.Kind.TECHNICAL,
        "product": Ticket.Product.AZURE,
        "subject": "VM does not start",
        "body": "Since this morning the VM **web-01** fails to boot.",
        "acting_user": tenant.customer_user.user,
    }
    arguments.update(overrides)
    return services.ticket_create(**arguments)


@pytest.fixture
def agent(tenant_a):
    return tenant_a.staff["helpdesk_agent"].user


@pytest.fixture
def ticket(tenant_a, tenant_b):
    TicketFactory.create_batch(3, customer=tenant_b.customer)
    return _create(tenant_a)


def test_numbers_are_sequential_per_partner_with_the_partners_prefix(tenant_a, tenant_b):
    a1, a2 = _create(tenant_a), _create(tenant_a)
    b1 = _create(tenant_b)

    assert (a1.number, a2.number) == (1001, 1002)
    assert b1.number == 1001
    assert a1.reference == "ALP-1001"
    assert b1.reference == "BRA-1001"


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_and_gapless_under_concurrency():
    from tests.conftest import Tenant

    tenant = Tenant("concurrent", extra_customers=1)
    Tenant("other", extra_customers=3)
    barrier = threading.Barrier(8)
    errors = []

    def open_ticket():
        try:
            barrier.wait()
            with partner_scope(tenant.partner):
                _create(tenant, subject="Same moment")
        except Exception as error:  # pragma: no cover — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_ticket) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    numbers = sorted(Ticket.objects.for_partner(tenant.partner).values_list("number", flat=True))
    assert errors == []
    assert numbers == list(range(1001, 1009))


def test_create_writes_the_first_message_the_timeline_and_queues_the_e_mail(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    purge_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(tenant_a)
    drain_tasks()

    assert ticket.status == Status.NEW
    assert ticket.messages.count() == 1
    assert list(ticket.events.values_list("kind", flat=True)) == [TicketEvent.Kind.CREATED]
    assert [m.to for m in mail.outbox] == [
        [tenant_a.customer_user.user.email],
        [tenant_a.partner.support_email],
    ]
    assert "[ALP-1001]" in mail.outbox[0].subject


def test_create_refuses_another_partners_customer(tenant_a, tenant_b):
    with pytest.raises(ValidationError):
        _create(tenant_a, customer=tenant_b.customer)

    assert Ticket.objects.for_partner(tenant_a.partner).count() == 0


def test_priority_follows_impact_and_urgency(tenant_a, tenant_b):
    ticket = _create(tenant_a, impact="high", urgency="high")

    assert ticket.priority == Ticket.Priority.URGENT


def test_a_public_agent_reply_records_the_first_response_once_and_opens_a_new_ticket(ticket, agent):
    services.ticket_reply(ticket=ticket, author=agent, body="Looking into it")
    first = Ticket.objects.for_partner(ticket.partner).get(pk=ticket.pk).first_response_at
    services.ticket_reply(ticket=ticket, author=agent, body="Still on it")
    ticket.refresh_from_db()

    assert ticket.status == Status.OPEN
    assert ticket.first_response_at == first is not None


def test_an_internal_note_is_not_a_first_response(ticket, agent):
    services.ticket_reply(ticket=ticket, author=agent, body="Check the logs", public=False)
    ticket.refresh_from_db()

    assert ticket.first_response_at is None
    assert ticket.status == Status.NEW
    assert ticket.events.filter(kind=TicketEvent.Kind.NOTE_ADDED).count() == 1


def test_the_agent_chooses_the_status_with_the_reply(ticket, agent):
    services.ticket_reply(
        ticket=ticket, author=agent, body="Which VM?", status=Status.WAITING_ON_CUSTOMER
    )
    ticket.refresh_from_db()

    assert ticket.status == Status.WAITING_ON_CUSTOMER


def test_a_customer_reply_on_waiting_on_customer_moves_it_to_open(ticket, agent, tenant_a):
    services.ticket_change(ticket=ticket, acting_user=agent, status=Status.WAITING_ON_CUSTOMER)

    services.ticket_reply(ticket=ticket, author=tenant_a.customer_user.user, body="web-01")
    ticket.refresh_from_db()

    assert ticket.status == Status.OPEN


def test_a_customer_cannot_write_an_internal_note(ticket, tenant_a):
    with pytest.raises(ValidationError):
        services.ticket_reply(
            ticket=ticket, author=tenant_a.customer_user.user, body="psst", public=False
        )

    assert TicketMessage.objects.for_partner(tenant_a.partner).count() == 1


def test_the_transition_table_refuses_a_jump_from_closed(ticket, agent):
    services.ticket_close(ticket=ticket, acting_user=agent)

    with pytest.raises(ValidationError):
        services.ticket_change(ticket=ticket, acting_user=agent, status=Status.RESOLVED)
    ticket.refresh_from_db()

    assert ticket.status == Status.CLOSED


def test_resolved_sets_and_reopen_clears_the_timestamps(ticket, agent, tenant_a):
    services.ticket_change(ticket=ticket, acting_user=agent, status=Status.RESOLVED)
    ticket.refresh_from_db()
    resolved_at = ticket.resolved_at

    services.ticket_reopen(ticket=ticket, acting_user=tenant_a.customer_user.user)
    ticket.refresh_from_db()

    assert resolved_at is not None
    assert (ticket.status, ticket.resolved_at) == (Status.OPEN, None)
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).count() == 1


def test_customer_closes_and_reopens(ticket, tenant_a):
    user = tenant_a.customer_user.user

    services.ticket_close(ticket=ticket, acting_user=user)
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, author=user, body="hello?")
    services.ticket_reopen(ticket=ticket, acting_user=user)
    ticket.refresh_from_db()

    assert ticket.status == Status.OPEN
    assert ticket.closed_at is None


def test_change_records_priority_assignee_and_tags(ticket, agent):
    services.ticket_change(
        ticket=ticket,
        acting_user=agent,
        priority=Ticket.Priority.HIGH,
        assignee=agent,
        tags=["Azure", " vm ", "azure"],
    )
    ticket.refresh_from_db()

    assert (ticket.priority, ticket.assignee, ticket.tags) == ("high", agent, ["azure", "vm"])
    assert set(ticket.events.values_list("kind", flat=True)) >= {
        "priority_changed",
        "assigned",
        "tags_changed",
    }


def test_tickets_are_assigned_to_staff_only(ticket, agent, tenant_a, tenant_b):
    with pytest.raises(ValidationError):
        services.ticket_change(ticket=ticket, acting_user=agent, assignee=tenant_b.admin.user)

    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_rating_once_resolved_and_only_once(ticket, agent, tenant_a):
    user = tenant_a.customer_user.user
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ticket, score=5, comment="early")
    services.ticket_change(ticket=ticket, acting_user=agent, status=Status.RESOLVED)

    services.ticket_rate(ticket=ticket, score=4, comment="Quick", acting_user=user)
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ticket, score=1, comment="again")
    ticket.refresh_from_db()

    assert (ticket.csat_score, ticket.csat_comment) == (4, "Quick")


def test_a_rating_outside_1_to_5_is_refused(ticket, agent):
    services.ticket_change(ticket=ticket, acting_user=agent, status=Status.RESOLVED)

    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ticket, score=6)


def test_merge_closes_the_source_copies_its_messages_and_tells_both_timelines(
    ticket, agent, tenant_a
):
    duplicate = _create(tenant_a, subject="VM down again", body="Same VM as before")

    services.ticket_merge(source=duplicate, target=ticket, acting_user=agent)
    duplicate.refresh_from_db()

    assert duplicate.status == Status.CLOSED
    assert duplicate.merged_into == ticket
    assert ticket.messages.count() == 2
    assert duplicate.events.filter(kind="merged_into").count() == 1
    assert ticket.events.filter(kind="merged_from").count() == 1
    with pytest.raises(ValidationError):
        services.ticket_reopen(ticket=duplicate, acting_user=agent)


def test_merge_refuses_another_customers_ticket(ticket, agent, tenant_a):
    other = _create(tenant_a, customer=tenant_a.other_customers[0])

    with pytest.raises(ValidationError):
        services.ticket_merge(source=other, target=ticket, acting_user=agent)
    other.refresh_from_db()

    assert other.merged_into is None
    assert other.status == Status.NEW


def test_an_agent_reply_e_mails_the_requester_but_a_note_does_not(
    ticket, agent, tenant_a, django_capture_on_commit_callbacks
):
    purge_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, author=agent, body="Internal only", public=False)
        services.ticket_reply(ticket=ticket, author=agent, body="Please restart the VM")
    drain_tasks()

    customer_mail = [m for m in mail.outbox if m.to == [tenant_a.customer_user.user.email]]
    assert len(customer_mail) == 2  # the reply and the status change to open
    assert "Please restart the VM" in customer_mail[0].body
    assert all("Internal only" not in m.body for m in mail.outbox)


def test_attachments_are_stored_with_the_type_found_in_their_bytes(tenant_a, tenant_b):
    png = SimpleUploadedFile("screenshot.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    ticket = _create(tenant_a, attachments=[png])
    attachment = ticket.attachments.get()

    assert (attachment.content_type, attachment.original_name) == ("image/png", "screenshot.pdf")
    assert attachment.size == 72
    assert "screenshot" not in attachment.file.name
