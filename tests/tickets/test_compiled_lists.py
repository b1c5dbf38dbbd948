"""The list as an agent opens it (a view, no filter, no search) is read by a statement
compiled once per process for each view, sort and page (`selectors.ViewRows`), and a page of
search results reads its tickets by id with one array parameter; the ticket page's customer
panel reads the customer's contacts and subscriptions by compiled statements too. Each must
answer what the queryset answers, and only the partner's rows."""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import format_html, format_html_join
from django.utils.timezone import now

from billing.models import Subscription
from csp_portal.accounts.models import ContactRole
from csp_portal.accounts.tenancy import partner_scope
from tests.factories import ContactFactory
from tests.factories.billing import SubscriptionFactory
from tests.factories.tickets import TicketFactory
from tickets import selectors
from tickets.models import Ticket
from tickets.subscriptions import customer_subscriptions
from tickets.templatetags import tickets as ticket_tags
from tickets.templatetags.sla import clock_words, short_datetimes

pytestmark = pytest.mark.django_db
UNTIMED_VIEWS = sorted(set(selectors.VIEWS) - selectors.TIMED_VIEWS)


def _mixed_tickets(tenant, count: int) -> list[Ticket]:
    """Tickets of every status and priority, spread over the tenant's customers and over
    nobody, the helpdesk agent and the admin."""
    agent, admin = tenant.staff["helpdesk_agent"].user, tenant.admin.user
    customers = itertools.cycle([tenant.customer, *tenant.other_customers])
    statuses = itertools.cycle(Ticket.Status.values)
    priorities = itertools.cycle(Ticket.Priority.values)
    assignees = itertools.cycle([None, agent, admin])
    return [
        TicketFactory(
            customer=next(customers),
            status=next(statuses),
            priority=next(priorities),
            assignee=next(assignees),
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("view", UNTIMED_VIEWS)
def test_a_views_compiled_pages_are_the_querysets_rows(tenant_a, tenant_b, view):
    _mixed_tickets(tenant_a, 24)
    _mixed_tickets(tenant_b, 12)
    agent = tenant_a.staff["helpdesk_agent"].user

    with partner_scope(tenant_a.partner, bypass=True):  # as if every row were let through
        for sort in ("updated", "priority", "customer", "-number", "sla"):
            expected = list(
                selectors.ticket_list_rows(
                    partner=tenant_a.partner, user=agent, view=view, filters={}, sort=sort
                )
            )
            rows = selectors.ViewRows(partner=tenant_a.partner, user=agent, view=view, sort=sort)
            paged = rows[0:5] + rows[5:10] + rows[10:30]

            assert [t.pk for t in paged] == [t.pk for t in expected], sort
            assert {t.partner_id for t in paged} <= {tenant_a.partner.pk}
    assert expected, "the view shows none of the tickets made for it"


def test_the_mine_view_is_the_viewers_own(tenant_a):
    _mixed_tickets(tenant_a, 12)
    agent, admin = tenant_a.staff["helpdesk_agent"].user, tenant_a.admin.user

    with partner_scope(tenant_a.partner):
        for viewer in (agent, admin):
            rows = selectors.ViewRows(
                partner=tenant_a.partner, user=viewer, view="mine", sort="updated"
            )[0:25]

            assert rows, viewer
            assert {t.assignee_id for t in rows} == {viewer.pk}


def test_a_compiled_page_draws_without_further_queries(tenant_a):
    _mixed_tickets(tenant_a, 6)

    with partner_scope(tenant_a.partner):
        rows = selectors.ViewRows(partner=tenant_a.partner, user=None, view="all", sort="updated")
        with CaptureQueriesContext(connection) as read:
            page = rows[0:25]
        with CaptureQueriesContext(connection) as drawn:
            names = [
                (t.customer.company_name, t.assignee and t.assignee.full_name, t.partner.pk)
                for t in page
            ]

    assert len(read.captured_queries) == 1
    assert drawn.captured_queries == []
    assert len(names) == 6


def test_an_empty_views_first_page_reads_nothing(tenant_a):
    with partner_scope(tenant_a.partner), CaptureQueriesContext(connection) as read:
        page = selectors.ViewRows(partner=tenant_a.partner, user=None, view="all", sort="updated")[
            0:0
        ]

    assert page == []
    assert read.captured_queries == []


@pytest.mark.parametrize("view", sorted(selectors.TIMED_VIEWS))
def test_the_clocks_views_are_not_compiled(tenant_a, view):
    with pytest.raises(ValueError, match="clock"):
        selectors.ViewRows(partner=tenant_a.partner, user=None, view=view, sort="updated")


def test_the_list_page_reads_a_plain_view_compiled_and_a_filtered_one_by_queryset(tenant_a):
    tickets = _mixed_tickets(tenant_a, 8)
    client = tenant_a.client(tenant_a.admin.user)

    plain = client.get("/staff/tickets/?view=all")
    filtered = client.get("/staff/tickets/?view=all&priority=urgent")

    assert isinstance(plain.context["page"].object_list, list)
    assert len(plain.context["page"].object_list) == 8
    urgent = [t.reference for t in tickets if t.priority == "urgent"]
    assert sorted(t.reference for t in filtered.context["page"].object_list) == sorted(urgent)
    for ticket in tickets:
        assert ticket.reference in plain.content.decode()


def test_search_rows_are_read_by_id_for_the_partner_only(tenant_a, tenant_b):
    own = TicketFactory(customer=tenant_a.customer)
    foreign = TicketFactory(customer=tenant_b.customer)

    with partner_scope(tenant_a.partner, bypass=True):
        found = selectors._ROWS_BY_ID.objects(partner=tenant_a.partner, ids=[foreign.pk, own.pk])
        again = selectors._ROWS_BY_ID.objects(partner=tenant_a.partner, ids=[own.pk])

    assert [t.pk for t in found] == [own.pk]
    assert [t.pk for t in again] == [own.pk]


CLOCK = re.compile(r'<span class="sla-clock.*?</span>')
CLOCK_STATE = re.compile(r'data-sla-state="(\w+)"')
DETAIL_URL = "/staff/tickets/%d/"


def _without_clocks(html: str) -> str:
    return CLOCK.sub("", html)


def test_the_lists_rows_are_the_html_format_html_draws(tenant_a, settings):
    """The rows are built without format_html (csp_portal.markup); the HTML is the same,
    escaping included."""
    settings.ROOT_URLCONF = settings.PARTNER_URLCONF  # the URLs of a partner's host
    TicketFactory(customer=tenant_a.customer, subject='<script>alert("x")</script> & co')
    tenant_a.customer.company_name = "O'Brien & <Sons>"
    tenant_a.customer.save()
    TicketFactory(customer=tenant_a.customer, assignee=tenant_a.admin.user, priority="urgent")

    with partner_scope(tenant_a.partner):
        page = selectors.ViewRows(partner=tenant_a.partner, user=None, view="all", sort="updated")[
            0:25
        ]
        drawn = ticket_tags.ticket_rows(page, selectable=True)
        labels = ticket_tags.choice_labels()
        shown = {"now": now(), "when": short_datetimes(), "words": clock_words()}
        rows = [ticket_tags._row(t, labels, DETAIL_URL, True, shown) for t in page]
        rows = [
            (format_html(ticket_tags.SELECT_CELL, t.pk, t.reference), *row[1:])
            for t, row in zip(page, rows, strict=True)
        ]
        expected = format_html_join("", ticket_tags.ROW, rows)

    # The two drawings read the clock apart: their SLA clocks are compared by their state.
    assert _without_clocks(drawn) == _without_clocks(expected)
    assert re.findall(CLOCK_STATE, drawn) == re.findall(CLOCK_STATE, expected)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in drawn
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in drawn


# -- the ticket page's customer panel, also read by compiled statements ----------------------


def test_the_customer_panel_lists_the_customers_active_contacts_admins_first(tenant_a, tenant_b):
    customer = tenant_a.other_customers[0]
    user = ContactFactory(customer=customer, user__email="a-user@people.example")
    admin = ContactFactory(
        customer=customer, role=ContactRole.ADMIN, user__email="z-admin@people.example"
    )
    ContactFactory(customer=customer, is_active=False)
    ContactFactory(customer=tenant_a.other_customers[1])
    ContactFactory(customer=tenant_b.customer)

    with partner_scope(tenant_a.partner, bypass=True):
        contacts = selectors.customer_contacts(partner=tenant_a.partner, customer=customer)
        foreign = selectors.customer_contacts(partner=tenant_a.partner, customer=tenant_b.customer)
        with CaptureQueriesContext(connection) as drawn:
            shown = [(c.user.email, c.partner.pk) for c in contacts]

    assert [c.pk for c in contacts] == [admin.pk, user.pk]
    assert foreign == []
    assert drawn.captured_queries == []
    assert shown[0] == ("z-admin@people.example", tenant_a.partner.pk)


def test_the_customer_panel_offers_the_customers_subscriptions_but_the_cancelled(
    tenant_a, tenant_b
):
    customer = tenant_a.customer
    second = SubscriptionFactory(customer=customer, offer_name="Teams Phone", quantity=3)
    first = SubscriptionFactory(
        customer=customer, offer_name="Exchange Online", status=Subscription.Status.SUSPENDED
    )
    SubscriptionFactory(customer=customer, offer_name="Visio", status=Subscription.Status.CANCELLED)
    SubscriptionFactory(customer=tenant_a.other_customers[0], offer_name="Project")
    SubscriptionFactory(customer=tenant_b.customer, offer_name="Power BI")

    with partner_scope(tenant_a.partner, bypass=True):
        options = customer_subscriptions(partner=tenant_a.partner, customer=customer)
        foreign = customer_subscriptions(partner=tenant_a.partner, customer=tenant_b.customer)

    assert [(o.reference, o.name, o.status) for o in options] == [
        (first.partner_center_id, "Exchange Online (10)", "suspended"),
        (second.partner_center_id, "Teams Phone (3)", "active"),
    ]
    assert foreign == []
