"""SLA clocks on tickets: due times from the partner's hours, pauses per reason, priority
changes, the breach watch (marked and announced once) and the auto-close of resolved tickets.
Two partners with different hours and different numbers of tickets; time under time-machine."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csp_portal.accounts.models import Holiday, ServiceHours
from tickets import services, sla_services
from tickets.models import DeskSettings, SlaBreach, SlaPause, SlaTarget, Ticket, TicketEvent
from tickets.sla_selectors import sla_report

AMS = ZoneInfo("Europe/Amsterdam")
Status = Ticket.Status
H = 3600


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


def _hours(partner, opens=time(8, 30), closes=time(17, 30)):
    ServiceHours.objects.bulk_create(
        ServiceHours(partner=partner, weekday=day, opens=opens, closes=closes) for day in range(5)
    )


def _target(partner, priority="normal", first=60, resolution=8 * 60):
    sla_services.sla_targets(partner=partner)
    SlaTarget.objects.for_partner(partner).filter(priority=priority).update(
        first_response_minutes=first, resolution_minutes=resolution
    )


def _open(tenant, priority="normal", **overrides):
    arguments = {
        "partner": tenant.partner,
        "customer": tenant.customer,
        "requester": tenant.customer_user.user,
        "kind": Ticket.Kind.TECHNICAL,
        "product": Ticket.Product.AZURE,
        "subject": "VM does not start",
        "body": "It fails to boot.",
        "priority": priority,
        "acting_user": tenant.customer_user.user,
    }
    arguments.update(overrides)
    return services.ticket_create(**arguments)


def _fresh(ticket):
    return Ticket.objects.for_partner(ticket.partner_id).get(pk=ticket.pk)


@pytest.fixture
def desk(tenant_a, tenant_b):
    """Partner A: 08:30-17:30 on weekdays; partner B: 12:00-20:00. Normal: 1 h / 8 h."""
    _hours(tenant_a.partner)
    _hours(tenant_b.partner, time(12), time(20))
    for tenant in (tenant_a, tenant_b):
        _target(tenant.partner)
    return tenant_a


@pytest.fixture
def agent(tenant_a):
    return tenant_a.staff["helpdesk_agent"].user


# -- due times ----------------------------------------------------------------------------


def test_a_new_ticket_is_due_in_the_partners_service_hours(desk):
    with time_machine.travel(at("2026-03-06 17:00"), tick=False):  # a Friday
        ticket = _open(desk)

    ticket = _fresh(ticket)
    assert ticket.first_response_due_at == at("2026-03-09 09:00")
    assert ticket.resolution_due_at == at("2026-03-09 16:00")
    assert ticket.resolution_seconds_left is None


def test_two_partners_with_different_hours_get_different_due_times(desk, tenant_b):
    with time_machine.travel(at("2026-03-02 07:00"), tick=False):
        a, b = _open(desk), _open(tenant_b)

    assert _fresh(a).first_response_due_at == at("2026-03-02 09:30")
    assert _fresh(b).first_response_due_at == at("2026-03-02 13:00")


def test_holidays_and_a_dst_change_move_the_due_time(desk):
    Holiday.objects.create(partner=desk.partner, date=at("2026-03-30").date(), name="Closed")

    with time_machine.travel(at("2026-03-27 17:00"), tick=False):  # Friday before DST
        ticket = _open(desk)

    assert _fresh(ticket).first_response_due_at == at("2026-03-31 09:00")
    assert _fresh(ticket).first_response_due_at.astimezone(AMS).utcoffset() == timedelta(hours=2)


def test_targets_default_per_priority_when_a_partner_has_none(tenant_a, tenant_b):
    targets = sla_services.sla_targets(partner=tenant_a.partner)

    assert {p: (t.first_response_minutes, t.resolution_minutes) for p, t in targets.items()} == {
        "urgent": (30, 240),
        "high": (60, 480),
        "normal": (240, 1440),
        "low": (480, 2400),
    }
    assert SlaTarget.objects.for_partner(tenant_b.partner).count() == 0


# -- pauses -------------------------------------------------------------------------------


def test_waiting_stops_the_resolution_clock_and_each_pause_is_recorded_with_its_reason(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:  # Monday
        ticket = _open(desk)
        assert _fresh(ticket).resolution_due_at == at("2026-03-02 17:00")
        clock.move_to(at("2026-03-02 10:00"))
        services.ticket_reply(
            ticket=ticket, author=agent, body="Which VM?", status=Status.WAITING_ON_CUSTOMER
        )
        paused = _fresh(ticket)
        clock.move_to(at("2026-03-02 14:00"))
        services.ticket_reply(ticket=ticket, author=desk.customer_user.user, body="web-01")
        resumed = _fresh(ticket)
        clock.move_to(at("2026-03-03 09:00"))
        services.ticket_change(ticket=ticket, acting_user=agent, status=Status.WAITING_ON_MICROSOFT)
        clock.move_to(at("2026-03-03 10:30"))
        services.ticket_change(ticket=ticket, acting_user=agent, status=Status.OPEN)
        report = sla_report(partner=desk.partner)

    assert paused.resolution_seconds_left == 7 * H
    assert resumed.resolution_due_at == at("2026-03-03 12:00")
    assert resumed.resolution_seconds_left is None
    assert _fresh(ticket).resolution_due_at == at("2026-03-03 13:30")
    pauses = SlaPause.objects.for_partner(desk.partner).filter(ticket=ticket)
    assert [(p.reason, p.business_seconds) for p in pauses] == [
        ("waiting_on_customer", 4 * H),
        ("waiting_on_microsoft", int(1.5 * H)),
    ]
    per_reason = {r["reason"]: (r["count"], r["business_seconds"]) for r in report["reasons"]}
    assert per_reason == {
        "waiting_on_customer": (1, 4 * H),
        "waiting_on_microsoft": (1, int(1.5 * H)),
        "waiting_on_provider": (0, 0),
    }


def test_a_pause_over_the_night_counts_service_hours_and_wall_time(desk, agent):
    with time_machine.travel(at("2026-03-02 17:00"), tick=False) as clock:
        ticket = _open(desk)
        services.ticket_change(ticket=ticket, acting_user=agent, status=Status.WAITING_ON_PROVIDER)
        clock.move_to(at("2026-03-03 09:00"))
        report = sla_report(partner=desk.partner)  # the pause is still open

    provider = next(r for r in report["reasons"] if r["reason"] == "waiting_on_provider")
    assert (provider["business_seconds"], provider["wall_seconds"]) == (1 * H, 16 * H)


def test_a_paused_ticket_is_not_breached_while_it_waits(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        services.ticket_reply(
            ticket=ticket, author=agent, body="Please send logs", status=Status.WAITING_ON_CUSTOMER
        )
        clock.move_to(at("2026-03-10 09:00"))
        sla_services.sla_sweep(partner=desk.partner)

    assert SlaBreach.objects.for_partner(desk.partner).count() == 0
    assert mail.outbox == []


def test_resolving_stops_the_clock_and_reopening_resumes_it(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        clock.move_to(at("2026-03-02 11:00"))
        services.ticket_change(ticket=ticket, acting_user=agent, status=Status.RESOLVED)
        resolved = _fresh(ticket)
        clock.move_to(at("2026-03-04 09:00"))
        services.ticket_reply(ticket=ticket, author=desk.customer_user.user, body="Back again")

    assert resolved.resolution_seconds_left == 6 * H
    assert _fresh(ticket).status == Status.OPEN
    assert _fresh(ticket).resolution_due_at == at("2026-03-04 15:00")
    assert SlaPause.objects.for_partner(desk.partner).count() == 0


def test_a_priority_change_moves_the_due_times_keeping_the_time_used(desk, agent):
    _target(desk.partner, "urgent", first=30, resolution=4 * 60)
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        clock.move_to(at("2026-03-02 10:00"))
        services.ticket_change(ticket=ticket, acting_user=agent, priority="urgent")

    ticket = _fresh(ticket)
    assert ticket.first_response_due_at == at("2026-03-02 09:30")
    assert ticket.resolution_due_at == at("2026-03-02 13:00")


def test_a_priority_change_while_paused_changes_the_time_left(desk, agent):
    _target(desk.partner, "high", first=30, resolution=10 * 60)
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        clock.move_to(at("2026-03-02 10:00"))
        services.ticket_change(
            ticket=ticket, acting_user=agent, status=Status.WAITING_ON_MICROSOFT, priority="high"
        )

    # 7 h of normal's 8 h were left; high allows 2 h more
    assert _fresh(ticket).resolution_seconds_left == 9 * H


# -- first response -----------------------------------------------------------------------


def test_a_late_first_response_is_recorded_as_missed_but_not_announced(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        late, on_time = _open(desk), _open(desk)
        clock.move_to(at("2026-03-02 09:45"))
        services.ticket_reply(ticket=on_time, author=agent, body="Looking")
        clock.move_to(at("2026-03-02 10:30"))
        services.ticket_reply(ticket=late, author=agent, body="Sorry for the wait")
        sla_services.sla_sweep(partner=desk.partner)

    breaches = SlaBreach.objects.for_partner(desk.partner)
    assert [(b.ticket_id, b.clock, b.notice_required) for b in breaches] == [
        (late.pk, "first_response", False)
    ]
    assert mail.outbox == []


def test_an_internal_note_does_not_stop_the_first_response_clock(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        services.ticket_reply(ticket=ticket, author=agent, body="Checking", public=False)
        clock.move_to(at("2026-03-02 10:01"))
        sla_services.sla_sweep(partner=desk.partner)

    assert SlaBreach.objects.for_partner(desk.partner).get().clock == "first_response"


# -- the watch ----------------------------------------------------------------------------


def test_a_breach_is_marked_and_announced_once_across_two_sweeps(desk, tenant_b, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        services.ticket_change(ticket=ticket, acting_user=agent, assignee=agent)
        other = _open(tenant_b)
        clock.move_to(at("2026-03-02 10:01"))
        first = sla_services.sla_sweep(partner=desk.partner)
        second = sla_services.sla_sweep(partner=desk.partner)
        clock.move_to(at("2026-03-02 17:01"))
        third = sla_services.sla_sweep(partner=desk.partner)
        fourth = sla_services.sla_sweep(partner=desk.partner)

    assert (first, second, third, fourth) == ((1, 1), (0, 0), (1, 1), (0, 0))
    assert [m.to for m in mail.outbox] == [[agent.email], [agent.email]]
    assert "First response overdue" in mail.outbox[0].subject
    assert "Resolution overdue" in mail.outbox[1].subject
    assert ticket.reference in mail.outbox[0].subject
    events = TicketEvent.objects.for_partner(desk.partner).filter(kind="sla_breached")
    assert [e.data["clock"] for e in events] == ["first_response", "resolution"]
    assert SlaBreach.objects.for_partner(tenant_b.partner).filter(ticket=other).count() == 0


def test_an_unassigned_breach_goes_to_the_partners_helpdesk_agents(desk, tenant_b):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        _open(desk)
        clock.move_to(at("2026-03-02 10:01"))
        sla_services.sla_sweep(partner=desk.partner)

    # the helpdesk agent, and the admin who holds every role
    assert mail.outbox[0].to == sorted(
        [desk.staff["helpdesk_agent"].user.email, desk.admin.user.email]
    )


class FlakyBackend:
    """An e-mail backend whose sending fails for one address (the SMTP server refused)."""

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.inner = EmailBackend(*args, **kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_messages(self, messages):
        if any("refused" in address for m in messages for address in m.to):
            raise ConnectionRefusedError("SMTP server refused")
        return self.inner.send_messages(messages)


def test_a_failed_notice_is_sent_on_the_next_run_and_none_twice(desk, settings):
    refused = desk.staff["admin_agent"].user
    refused.email = "refused@alpha.example"
    refused.save()
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        _open(desk)
        b = _open(desk)
        _open(desk)
        services.ticket_change(ticket=b, acting_user=refused, assignee=refused)
        clock.move_to(at("2026-03-02 10:01"))
        sla_services.sla_sweep(partner=desk.partner)
        sent_first = len(mail.outbox)
        refused.email = "back@alpha.example"
        refused.save()
        sla_services.sla_sweep(partner=desk.partner)
        sla_services.sla_sweep(partner=desk.partner)

    assert sent_first == 2
    assert len(mail.outbox) == 3
    assert [m.to for m in mail.outbox].count(["back@alpha.example"]) == 1
    assert SlaBreach.objects.for_partner(desk.partner).filter(notice_sent_at=None).count() == 0


def test_the_watch_marks_in_batches(desk):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        tickets = [_open(desk) for _ in range(5)]
        clock.move_to(at("2026-03-02 10:01"))
        marked, sent = sla_services.sla_sweep(partner=desk.partner, batch_size=2)

    assert (marked, sent) == (5, 5)
    assert (
        SlaBreach.objects.for_partner(desk.partner)
        .filter(ticket__in=tickets, clock="first_response")
        .count()
        == 5
    )


def _sweep_queries(tenant, size):
    with time_machine.travel(at("2026-03-02 12:00"), tick=False) as clock:
        for _ in range(size):
            _open(tenant)
        clock.move_to(at("2026-03-02 13:01"))
        with CaptureQueriesContext(connection) as captured:
            marked, _sent = sla_services.sla_sweep(partner=tenant.partner)
    assert marked == size
    return len(captured)


def test_the_sweeps_queries_do_not_grow_with_the_number_of_breaches(desk, tenant_b):
    assert _sweep_queries(desk, 2) == _sweep_queries(tenant_b, 9)


def test_the_beat_runs_the_watch_every_minute_for_every_partner(desk, tenant_b, settings):
    from tickets.tasks import sla_watch

    schedule = settings.CELERY_BEAT_SCHEDULE["tickets-sla-watch"]
    with time_machine.travel(at("2026-03-02 07:00"), tick=False) as clock:
        _open(desk)
        _open(tenant_b)
        clock.move_to(at("2026-03-02 13:01"))
        sla_watch.apply(throw=True)
        sla_watch.apply(throw=True)

    assert (schedule["task"], schedule["schedule"]) == ("tickets.tasks.sla_watch", 60.0)
    assert len(mail.outbox) == 2
    assert SlaBreach.objects.for_partner(tenant_b.partner).count() == 1


# -- auto-close ---------------------------------------------------------------------------


def _resolved(tenant, agent, when):
    with time_machine.travel(when, tick=False):
        ticket = _open(tenant)
        services.ticket_change(ticket=ticket, acting_user=agent, status=Status.RESOLVED)
    return ticket


def test_resolved_tickets_close_after_seven_days_not_before(desk, tenant_b, agent):
    old = _resolved(desk, agent, at("2026-03-02 10:00"))
    young = _resolved(desk, agent, at("2026-03-04 10:00"))
    b_agent = tenant_b.staff["helpdesk_agent"].user
    other = _resolved(tenant_b, b_agent, at("2026-03-02 10:00"))
    DeskSettings.objects.create(partner=tenant_b.partner, auto_close_after_days=10)

    with time_machine.travel(at("2026-03-09 10:30"), tick=False):
        closed = sla_services.tickets_auto_close(partner=desk.partner)
        closed_b = sla_services.tickets_auto_close(partner=tenant_b.partner)
        again = sla_services.tickets_auto_close(partner=desk.partner)

    assert (closed, closed_b, again) == (1, 0, 0)
    assert (_fresh(old).status, _fresh(young).status) == (Status.CLOSED, Status.RESOLVED)
    assert _fresh(old).closed_at == at("2026-03-09 10:30")
    assert _fresh(other).status == Status.RESOLVED
    event = TicketEvent.objects.for_partner(desk.partner).get(kind="auto_closed")
    assert (event.ticket_id, event.actor_id, event.data["days"]) == (old.pk, None, 7)


def test_the_requester_is_told_when_the_ticket_closes_by_itself(
    desk, agent, django_capture_on_commit_callbacks
):
    from tests.tasks import drain_tasks, purge_tasks

    ticket = _resolved(desk, agent, at("2026-03-02 10:00"))
    purge_tasks()
    mail.outbox.clear()
    with (
        time_machine.travel(at("2026-03-09 10:30"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sla_services.tickets_auto_close(partner=desk.partner)
    drain_tasks()

    sent = [m for m in mail.outbox if m.to == [ticket.requester.email]]
    assert len(sent) == 1
    assert ticket.reference in sent[0].subject
    assert "Closed" in sent[0].body


def test_a_customer_reply_before_the_deadline_keeps_the_ticket_open(desk, agent):
    ticket = _resolved(desk, agent, at("2026-03-02 10:00"))
    with time_machine.travel(at("2026-03-08 10:00"), tick=False):
        services.ticket_reply(ticket=ticket, author=desk.customer_user.user, body="Not fixed")
    with time_machine.travel(at("2026-03-20 10:00"), tick=False):
        closed = sla_services.tickets_auto_close(partner=desk.partner)

    assert closed == 0
    assert _fresh(ticket).status == Status.OPEN


def test_the_per_partner_setting_applies_through_the_beat_task(desk, tenant_b, agent, settings):
    from tickets.tasks import auto_close_resolved

    b_agent = tenant_b.staff["helpdesk_agent"].user
    DeskSettings.objects.create(partner=tenant_b.partner, auto_close_after_days=2)
    a = _resolved(desk, agent, at("2026-03-02 10:00"))
    b = _resolved(tenant_b, b_agent, at("2026-03-02 10:00"))

    with time_machine.travel(at("2026-03-04 11:00"), tick=False):
        auto_close_resolved.apply(throw=True)

    assert (_fresh(a).status, _fresh(b).status) == (Status.RESOLVED, Status.CLOSED)
    assert settings.CELERY_BEAT_SCHEDULE["tickets-auto-close"]["task"] == (
        "tickets.tasks.auto_close_resolved"
    )
