"""The ticket counts per status and assignee kept by the database triggers, and the ticket
list that reads them: the views' counts, pages numbered without a second count, the customer
type-ahead."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.factories.tickets import TicketFactory
from tickets import selectors
from tickets.models import Ticket, TicketStatusCount

pytestmark = pytest.mark.django_db
Status = Ticket.Status


def kept(partner, by_assignee=False) -> dict:
    rows = TicketStatusCount.objects.for_partner(partner).values_list(
        "status", "assignee_id", "count"
    )
    counts: dict = {}
    for status, assignee_id, count in rows:
        key = (status, assignee_id) if by_assignee else status
        counts[key] = counts.get(key, 0) + count
    return {key: count for key, count in counts.items() if count}


def actual(partner, by_assignee=False) -> dict:
    fields = ("status", "assignee_id") if by_assignee else ("status",)
    rows = Ticket.objects.for_partner(partner).values_list(*fields).annotate(n=Count("pk"))
    return {(row[:-1] if by_assignee else row[0]): row[-1] for row in rows.order_by()}


def test_new_tickets_are_counted_per_partner_and_status(tenant_a, tenant_b):
    TicketFactory.create_batch(3, customer=tenant_a.customer)
    TicketFactory(customer=tenant_a.customer, status=Status.CLOSED)
    TicketFactory.create_batch(2, customer=tenant_b.customer)

    assert kept(tenant_a.partner) == {"new": 3, "closed": 1}
    assert kept(tenant_b.partner) == {"new": 2}


def test_a_status_change_moves_one_count_and_other_edits_none(tenant_a):
    ticket = TicketFactory(customer=tenant_a.customer)
    ticket.status = Status.RESOLVED
    ticket.save()
    ticket.subject = "Still resolved"
    ticket.save()

    assert kept(tenant_a.partner) == {"resolved": 1}


def test_bulk_writes_and_deletes_keep_the_counts(tenant_a):
    TicketFactory.create_batch(4, customer=tenant_a.customer)
    tickets = Ticket.objects.for_partner(tenant_a.partner)
    tickets.filter(pk__in=list(tickets.values_list("pk", flat=True)[:3])).update(
        status=Status.CLOSED
    )
    tickets.filter(status=Status.NEW).delete()

    assert kept(tenant_a.partner) == {"closed": 3}


def test_the_counts_match_the_tickets_after_any_mix_of_changes(tenant_a, tenant_b):
    rng = random.Random(5)
    statuses = list(Status)
    staff = {
        tenant.partner.pk: [None, *(m.user for m in tenant.staff.values())]
        for tenant in (tenant_a, tenant_b)
    }
    for _ in range(40):
        tenant = rng.choice([tenant_a, tenant_b])
        roll = rng.random()
        tickets = Ticket.objects.for_partner(tenant.partner)
        if roll < 0.35 or not tickets.exists():
            TicketFactory(
                customer=tenant.customer,
                status=rng.choice(statuses),
                assignee=rng.choice(staff[tenant.partner.pk]),
            )
        elif roll < 0.6:
            ticket = rng.choice(list(tickets))
            ticket.status = rng.choice(statuses)
            ticket.save()
        elif roll < 0.85:
            ticket = rng.choice(list(tickets))
            ticket.assignee = rng.choice(staff[tenant.partner.pk])
            ticket.save()
        else:
            rng.choice(list(tickets)).delete()

    assert kept(tenant_a.partner, by_assignee=True) == actual(tenant_a.partner, by_assignee=True)
    assert kept(tenant_b.partner, by_assignee=True) == actual(tenant_b.partner, by_assignee=True)


def test_every_kept_count_is_the_length_of_its_views_list(tenant_a):
    rng = random.Random(11)
    agent = tenant_a.staff["helpdesk_agent"].user
    staff = [None, agent, tenant_a.admin.user]
    for _ in range(25):
        TicketFactory(
            customer=tenant_a.customer,
            status=rng.choice(list(Status)),
            assignee=rng.choice(staff),
        )

    counts = selectors.ticket_counts(partner=tenant_a.partner, user=agent)

    for view in selectors.KEPT_VIEWS:
        listed = selectors.ticket_list(partner=tenant_a.partner, user=agent, view=view)
        assert counts[view] == listed.count(), view


def test_an_assignment_moves_one_count_from_nobody_to_the_assignee(tenant_a):
    agent = tenant_a.staff["helpdesk_agent"].user
    ticket = TicketFactory(customer=tenant_a.customer)
    TicketFactory(customer=tenant_a.customer)

    ticket.assignee = agent
    ticket.save()

    assert kept(tenant_a.partner, by_assignee=True) == {("new", None): 1, ("new", agent.pk): 1}


def test_a_deleted_assignees_tickets_count_as_unassigned(tenant_a):
    agent = UserFactory()
    TicketFactory.create_batch(2, customer=tenant_a.customer, assignee=agent)

    agent.delete()

    assert kept(tenant_a.partner, by_assignee=True) == {("new", None): 2}


def test_the_open_views_count_from_the_kept_counts(tenant_a, tenant_b):
    agent = tenant_a.staff["helpdesk_agent"].user
    colleague = tenant_a.admin.user
    TicketFactory.create_batch(2, customer=tenant_a.customer, assignee=agent)
    TicketFactory(customer=tenant_a.customer, assignee=agent, status=Status.CLOSED)
    TicketFactory(customer=tenant_a.customer, assignee=colleague, status=Status.OPEN)
    TicketFactory(customer=tenant_a.customer, status=Status.WAITING_ON_CUSTOMER)
    TicketFactory(customer=tenant_a.customer, status=Status.WAITING_ON_PROVIDER)
    TicketFactory.create_batch(3, customer=tenant_b.customer, assignee=agent)

    counts = selectors.ticket_counts(partner=tenant_a.partner, user=agent)

    assert {name: counts[name] for name in selectors.KEPT_VIEWS} == {
        "unassigned": 2,
        "mine": 2,
        "waiting_on_customer": 1,
        "waiting_on_microsoft": 1,
        "all_open": 5,
        "resolved": 0,
        "closed": 1,
        "all": 6,
    }


def test_the_history_views_count_from_the_kept_counts(tenant_a):
    TicketFactory.create_batch(2, customer=tenant_a.customer, status=Status.RESOLVED)
    TicketFactory.create_batch(3, customer=tenant_a.customer, status=Status.CLOSED)
    TicketFactory(customer=tenant_a.customer)

    counts = selectors.ticket_counts(partner=tenant_a.partner, user=tenant_a.admin.user)

    assert (counts["resolved"], counts["closed"], counts["all"], counts["all_open"]) == (
        2,
        3,
        6,
        1,
    )


def _list(tenant, query=""):
    client = tenant.client(tenant.admin.user)
    client.get("/staff/tickets/")  # warm the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/staff/tickets/{query}")
    assert response.status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    return response, counts


def test_a_plain_view_numbers_its_pages_from_its_count(tenant_a):
    TicketFactory.create_batch(27, customer=tenant_a.customer)

    response, counts = _list(tenant_a, "?view=all_open")

    assert counts == []
    assert response.context["page"].paginator.num_pages == 2
    assert len(response.context["page"].object_list) == 25


def test_a_filtered_view_counts_what_it_shows(tenant_a):
    TicketFactory.create_batch(3, customer=tenant_a.customer)
    TicketFactory.create_batch(2, customer=tenant_a.other_customers[0])

    response, counts = _list(tenant_a, f"?view=all_open&customer={tenant_a.customer.pk}")

    assert len(counts) == 1
    assert response.context["page"].paginator.count == 3
    assert tenant_a.customer.company_name in response.content.decode()


def test_the_customer_filter_matches_part_of_the_name(tenant_a):
    tenant_a.customer.company_name = "Fabrikam Holding"
    tenant_a.customer.save()
    TicketFactory.create_batch(2, customer=tenant_a.customer)
    TicketFactory(customer=tenant_a.other_customers[0])

    response, _counts = _list(tenant_a, "?customer_name=brikam")

    assert response.context["page"].paginator.count == 2


def test_the_list_renders_no_option_per_customer(tenant_a):
    response, _counts = _list(tenant_a)

    page = response.content.decode()
    for customer in tenant_a.other_customers:
        assert customer.company_name not in page


def test_the_customer_type_ahead_suggests_only_the_partners_own_names(tenant_a, tenant_b):
    tenant_a.customer.company_name = "Contoso Pharma"
    tenant_a.customer.save()
    tenant_b.customer.company_name = "Contoso Foreign"
    tenant_b.customer.save()
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    found = client.get("/staff/tickets/customers/?q=contoso").json()
    too_short = client.get("/staff/tickets/customers/?q=c").json()

    assert found == {"results": ["Contoso Pharma"]}
    assert too_short == {"results": []}


def test_customers_cannot_ask_for_the_type_ahead(tenant_a):
    response = tenant_a.client(tenant_a.customer_admin.user).get("/staff/tickets/customers/?q=co")

    assert response.status_code in (403, 404)


def _searchable(tenant, count, subject):
    from tickets import services

    for _ in range(count):
        services.ticket_search_vector_refresh(
            ticket=TicketFactory(customer=tenant.customer, subject=subject)
        )


def test_search_results_are_paged_without_counting_every_match(tenant_a):
    _searchable(tenant_a, 27, "Mailbox quarantine")

    first, first_counts = _list(tenant_a, "?view=all&q=quarantine")
    second, _counts = _list(tenant_a, "?view=all&q=quarantine&page=2")

    assert first_counts == []
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].has_next()
    assert len(second.context["page"].object_list) == 2
    assert not second.context["page"].has_next()
    assert second.context["page"].has_previous()


def test_a_nonsense_search_page_number_shows_the_first_page(tenant_a):
    _searchable(tenant_a, 2, "Mailbox quarantine")

    response, _counts = _list(tenant_a, "?view=all&q=quarantine&page=zz")

    assert response.context["page"].number == 1
    assert len(response.context["page"].object_list) == 2


@pytest.mark.parametrize("value", ["none", "12abc", "-1"])
def test_a_customer_filter_that_is_not_an_id_is_ignored(tenant_a, value):
    TicketFactory.create_batch(2, customer=tenant_a.customer)

    response, _counts = _list(tenant_a, f"?view=all&customer={value}")

    assert response.context["page"].paginator.count == 2
