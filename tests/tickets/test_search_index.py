"""Ticket search under row-level security: one partner's matches, found through the GIN
index (the full-text match is leakproof, and every vector names its partner)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from csp_portal.accounts.tenancy import partner_scope
from tests.factories.tickets import TicketFactory
from tickets import search, selectors, services

pytestmark = pytest.mark.django_db


def _ticket(tenant, subject):
    ticket = TicketFactory(customer=tenant.customer, subject=subject)
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
