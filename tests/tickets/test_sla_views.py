"""SLA on the agent's pages: time left on the list and the ticket page (coloured, with the
pause reason), the "breaching within the hour" view, the report and the settings page. Two
partners with different numbers of tickets, so a leak changes a count."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from csp_portal.accounts.models import ServiceHours
from tickets import selectors, services, sla_services
from tickets.models import DeskSettings, SlaTarget, Ticket

AMS = ZoneInfo("Europe/Amsterdam")
Status = Ticket.Status


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


def _open(tenant, priority="normal"):
    return services.ticket_create(
        partner=tenant.partner,
        customer=tenant.customer,
        requester=tenant.customer_user.user,
        kind=Ticket.Kind.TECHNICAL,
        product=Ticket.Product.AZURE,
        subject="Mailbox full",
        body="Cannot receive mail.",
        priority=priority,
        acting_user=tenant.customer_user.user,
    )


@pytest.fixture
def desk(tenant_a, tenant_b):
    """Weekdays 08:30-17:30 for both; normal: 1 h first response, 8 h resolution."""
    for tenant in (tenant_a, tenant_b):
        ServiceHours.objects.bulk_create(
            ServiceHours(partner=tenant.partner, weekday=d, opens=time(8, 30), closes=time(17, 30))
            for d in range(5)
        )
        sla_services.sla_targets(partner=tenant.partner)
        SlaTarget.objects.for_partner(tenant.partner).filter(priority="normal").update(
            first_response_minutes=60, resolution_minutes=8 * 60
        )
    return tenant_a


@pytest.fixture
def agent(tenant_a):
    return tenant_a.staff["helpdesk_agent"].user


def test_the_sidebar_counts_breaching_and_overdue_tickets_in_the_open_tickets_query(
    desk, tenant_b, agent, django_assert_num_queries
):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        soon = _open(desk)  # first response due 10:00
        clock.move_to(at("2026-03-02 09:40"))
        later = _open(desk)  # due 10:40
        services.ticket_reply(ticket=later, author=agent, body="On it")  # resolution 17:40
        waiting = _open(desk)
        services.ticket_reply(
            ticket=waiting, author=agent, body="Logs?", status=Status.WAITING_ON_CUSTOMER
        )
        for _ in range(3):
            _open(tenant_b)
        clock.move_to(at("2026-03-02 09:30"))
        counts_early = selectors.ticket_counts(partner=desk.partner, user=agent)
        clock.move_to(at("2026-03-02 10:05"))
        with django_assert_num_queries(2):  # open tickets' aggregate + status counts
            counts = selectors.ticket_counts(partner=desk.partner, user=agent)
        listed = list(selectors.ticket_list(partner=desk.partner, user=agent, view="sla_breached"))

    assert (counts_early["breaching_soon"], counts_early["sla_breached"]) == (1, 0)
    assert (counts["breaching_soon"], counts["sla_breached"]) == (0, 1)
    assert listed == [soon]


def test_the_sla_counts_read_the_tickets_due_within_the_hour_from_their_index(desk, agent):
    """The count's condition is the very expression of ticket_sla_due_idx, so the index
    serves it (an index condition, not a filter over every open ticket)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from csp_portal.accounts.tenancy import partner_scope

    for _ in range(3):
        _open(desk)
    with CaptureQueriesContext(connection) as captured:
        selectors.ticket_counts(partner=desk.partner, user=agent)
    sla_count = next(q["sql"] for q in captured.captured_queries if "LEAST(" in q["sql"])

    with transaction.atomic(), partner_scope(desk.partner), connection.cursor() as cursor:
        # Tiny tables: leave the planner no other index (undone with the transaction) and
        # make a full scan dearer, so the plan shows whether the expression is matched.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks to block ALTER
        cursor.execute(
            "SELECT conname FROM pg_constraint"
            " WHERE conrelid = 'tickets_ticket'::regclass AND contype IN ('u', 'x')"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE tickets_ticket DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = 'tickets_ticket'::regclass AND NOT x.indisprimary"
            " AND i.relname <> 'ticket_sla_due_idx'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sla_count)
        plan = [row[0].strip() for row in cursor.fetchall()]
        transaction.set_rollback(True)

    # (Index-only once the table is vacuumed, as the benchmark's is: the index holds every
    # column the count reads.)
    assert any("Scan using ticket_sla_due_idx" in line for line in plan), plan
    assert any(line.startswith("Index Cond:") and "LEAST(" in line for line in plan), plan


def test_the_list_shows_time_left_coloured_and_the_pause_reason(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        running = _open(desk)
        paused = _open(desk)
        services.ticket_reply(
            ticket=paused, author=agent, body="Logs?", status=Status.WAITING_ON_MICROSOFT
        )
        clock.move_to(at("2026-03-02 09:20"))
        response = desk.client(agent).get("/staff/tickets/?view=all_open")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="sla-clock sla-warning" data-sla-state="running"' in html
    assert "40 min left" in html
    assert "Paused: Waiting on Microsoft" in html
    assert "8 h 00 min of service hours left" in html
    assert running.reference in html


def test_the_clocks_speak_each_viewers_language(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        _open(desk)
        paused = _open(desk)
        services.ticket_reply(
            ticket=paused, author=agent, body="Logs?", status=Status.WAITING_ON_MICROSOFT
        )
        clock.move_to(at("2026-03-02 09:20"))
        english = desk.client(agent).get("/staff/tickets/?view=all_open").content.decode()
        dutch = desk.client(agent).get("/staff/tickets/?view=all_open", HTTP_ACCEPT_LANGUAGE="nl")
        again = desk.client(agent).get("/staff/tickets/?view=all_open").content.decode()

    assert "40 min left" in english and "Paused: " in english
    assert "nog 40 min" in dutch.content.decode() and "Gepauzeerd: " in dutch.content.decode()
    assert "40 min left" in again  # each language's words kept apart


def test_the_ticket_page_shows_both_clocks(desk, agent):
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        ticket = _open(desk)
        clock.move_to(at("2026-03-02 10:30"))
        sla_services.sla_sweep(partner=desk.partner)
        response = desk.client(agent).get(f"/staff/tickets/{ticket.pk}/")

    html = response.content.decode()
    assert 'data-sla-clock="first_response" data-sla-state="running"' in html
    assert "30 min overdue" in html
    assert 'data-sla-clock="resolution" data-sla-state="running"' in html
    assert "6 h 30 min left" in html
    assert "SLA target missed (first response)" in html


def test_the_report_counts_met_and_missed_per_priority_for_the_partner_only(desk, tenant_b, agent):
    b_agent = tenant_b.staff["helpdesk_agent"].user
    with time_machine.travel(at("2026-03-02 09:00"), tick=False) as clock:
        met, missed = _open(desk), _open(desk)
        _open(desk, priority="urgent")
        for _ in range(4):
            other = _open(tenant_b)
            services.ticket_reply(ticket=other, author=b_agent, body="Hi")
        clock.move_to(at("2026-03-02 09:30"))
        services.ticket_reply(ticket=met, author=agent, body="Hello", status=Status.RESOLVED)
        clock.move_to(at("2026-03-02 10:30"))
        sla_services.sla_sweep(partner=desk.partner)
        services.ticket_reply(ticket=missed, author=agent, body="Sorry")
        response = desk.client(desk.staff["sales_agent"].user).get("/staff/tickets/sla/")

    rows = {row["priority"]: row for row in response.context["report"]["priorities"]}
    assert response.status_code == 200
    assert (rows["normal"]["total"], rows["normal"]["first_response_met"]) == (2, 1)
    assert (rows["normal"]["first_response_missed"], rows["normal"]["resolution_met"]) == (1, 1)
    assert (rows["urgent"]["total"], rows["urgent"]["first_response_missed"]) == (1, 1)
    assert rows["low"]["total"] == 0


def test_customers_cannot_see_the_report(desk):
    response = desk.client(desk.customer_admin.user).get("/staff/tickets/sla/")

    assert response.status_code == 404


def test_a_global_admin_changes_targets_and_the_auto_close_delay(desk, tenant_b):
    data = {"auto_close_after_days": 3}
    for priority in ("urgent", "high", "normal", "low"):
        data[f"{priority}_first_response"] = 15
        data[f"{priority}_resolution"] = 120
    client = desk.client(desk.staff["global_admin"].user)

    page = client.get("/staff/tickets/sla/settings/")
    response = client.post("/staff/tickets/sla/settings/", data)

    assert page.status_code == 200
    assert response.status_code == 302
    assert DeskSettings.objects.for_partner(desk.partner).get().auto_close_after_days == 3
    targets = SlaTarget.objects.for_partner(desk.partner).values_list(
        "first_response_minutes", "resolution_minutes"
    )
    assert set(targets) == {(15, 120)}
    assert (
        SlaTarget.objects.for_partner(tenant_b.partner).get(priority="normal").resolution_minutes
        == 480
    )


def test_bad_settings_are_refused_and_nothing_changes(desk):
    data = {"auto_close_after_days": 0, "urgent_first_response": 60, "urgent_resolution": 30}
    response = desk.client(desk.staff["global_admin"].user).post(
        "/staff/tickets/sla/settings/", data
    )

    assert response.status_code == 400
    assert DeskSettings.objects.for_partner(desk.partner).count() == 0
    assert (
        SlaTarget.objects.for_partner(desk.partner).get(priority="urgent").resolution_minutes == 240
    )


def test_only_global_admins_change_sla_settings(desk):
    client = desk.client(desk.staff["helpdesk_agent"].user)

    response = client.post("/staff/tickets/sla/settings/", {"auto_close_after_days": 1})

    assert response.status_code == 403
    assert DeskSettings.objects.for_partner(desk.partner).count() == 0
