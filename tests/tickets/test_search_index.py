"""Ticket search under row-level security: one partner's matches, found through the GIN
index (the full-text match is leakproof, and every vector names its partner)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from csp_portal.accounts.tenancy import partner_scope
from tests.factories.tickets import TicketFactory
from tickets import search, selectors, services

pytestmark = pytest.mark.django_db


def _ticket(tenant, subject, **fields):
    ticket = TicketFactory(customer=tenant.customer, subject=subject, **fields)
    services.ticket_search_vector_refresh(ticket=ticket)
    return ticket


def test_every_vector_names_its_partner(tenant_a):
    ticket = _ticket(tenant_a, "Mailbox quarantine")
    ticket.refresh_from_db()

    assert search.scope_word(tenant_a.partner.pk) in str(ticket.search_vector)


def test_a_search_finds_only_the_partners_own_matches(tenant_a, tenant_b):
    own = _ticket(tenant_a, "Mailbox quarantine")
    _ticket(tenant_b, "Mailbox quarantine")

    with partner_scope(tenant_a.partner):
        found = list(
            selectors.ticket_list(
                partner=tenant_a.partner, user=tenant_a.admin.user, view="all", search="quarantine"
            )
        )

    assert found == [own]


def test_row_level_security_leaves_the_full_text_index_usable(tenant_a, tenant_b):
    """Under row-level security an index serves a condition only if its function is
    leakproof; the devstack (and docker/postgres-init.sh) marks the full-text match so."""
    for n in range(3):
        _ticket(tenant_a, f"Mailbox quarantine {n}")
        _ticket(tenant_b, f"Printer jam {n}")

    with transaction.atomic(), partner_scope(tenant_a.partner), connection.cursor() as cursor:
        cursor.execute("SELECT proleakproof FROM pg_proc WHERE proname = 'ts_match_vq'")
        leakproof = cursor.fetchone()
        # Tiny tables: make any other way dearer than the index, if the index may be used.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM tickets_ticket WHERE search_vector @@ %s::tsquery",
            [f"quarantine & {search.scope_word(tenant_a.partner.pk)}"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert leakproof == (True,)
    assert "ticket_search_idx" in plan, plan


def _search_page(tenant, window, bypass=False, **arguments):
    options = {"view": "all", "filters": {}, "sort": "updated", "search": "quarantine"}
    options.update(arguments)
    with partner_scope(tenant.partner, bypass=bypass):
        results = selectors.SearchResults(partner=tenant.partner, user=tenant.admin.user, **options)
        return results[window]


def test_the_workspace_pages_search_results_in_the_lists_order(tenant_a, tenant_b):
    tickets = [_ticket(tenant_a, f"Mailbox quarantine {n}") for n in range(5)]
    _ticket(tenant_a, "Quarantine quarantine quarantine")  # ranks first
    for n in range(3):
        _ticket(tenant_b, f"Mailbox quarantine {n}")
    listed = list(
        selectors.ticket_list(
            partner=tenant_a.partner, user=tenant_a.admin.user, view="all", search="quarantine"
        )
    )

    first, second = _search_page(tenant_a, slice(0, 4)), _search_page(tenant_a, slice(4, 8))
    by_number = _search_page(tenant_a, slice(0, 8), sort="-number")

    assert first + second == listed
    assert first[0].subject == "Quarantine quarantine quarantine"
    assert len(second) == 2
    assert by_number[:5] == tickets
    assert first[0].customer.company_name == tenant_a.customer.company_name


def test_the_search_results_keep_the_views_filters(tenant_a):
    agent = tenant_a.staff["helpdesk_agent"].user
    mine = _ticket(tenant_a, "Mailbox quarantine mine", assignee=agent)
    _ticket(tenant_a, "Mailbox quarantine nobody's")

    found = _search_page(tenant_a, slice(0, 10), filters={"assignee": str(agent.pk)})

    assert found == [mine]


def test_a_foreign_ticket_that_names_the_partners_word_is_not_a_result(tenant_a, tenant_b):
    """The partner is checked on every matched row, not only through the partner word."""
    own = _ticket(tenant_a, "Mailbox quarantine")
    _ticket(tenant_b, f"Mailbox quarantine {search.scope_word(tenant_a.partner.pk)}")

    # As if row-level security let every row through; the newer, foreign match would be first.
    found = _search_page(tenant_a, slice(0, 1), bypass=True)

    assert found == [own]


def test_the_search_reads_the_full_text_index_without_a_partner_index(tenant_a, tenant_b):
    for n in range(3):
        _ticket(tenant_a, f"Mailbox quarantine {n}")
        _ticket(tenant_b, f"Printer jam {n}")
    matches = selectors._search_matches(
        partner=tenant_a.partner,
        user=tenant_a.admin.user,
        view="all",
        filters={},
        sort="updated",
        typed="quarantine",
    )

    with transaction.atomic(), partner_scope(tenant_a.partner), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = matches[:26].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "ticket_search_idx" in plan, plan
    assert "BitmapAnd" not in plan, plan


@pytest.mark.parametrize("sort", ["updated", "-number", "priority", "customer"])
def test_a_compiled_search_pages_as_the_queryset_does(tenant_a, tenant_b, sort):
    """An unfiltered search runs a statement compiled once per process; a filter that keeps
    every ticket (all are technical) takes the queryset's own way: the pages are the same."""
    for n in range(7):
        _ticket(tenant_a, f"Mailbox quarantine {'x ' * n}")
    _ticket(tenant_b, "Mailbox quarantine")

    for window in (slice(0, 3), slice(3, 6), slice(6, 9)):
        compiled = _search_page(tenant_a, window, sort=sort)
        queried = _search_page(tenant_a, window, sort=sort, filters={"kind": "technical"})

        assert [t.pk for t in compiled] == [t.pk for t in queried], window
    assert len(_search_page(tenant_a, slice(0, 10), sort=sort)) == 7
