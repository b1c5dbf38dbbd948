"""The benchmark's seeder and report writer at a tiny size (the benchmark itself is
`make bench`, not a test)."""

from __future__ import annotations

import json

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection

from bench import report
from bench.config import Sizes
from bench.seed import Seeder
from billing.models import CollectionPolicy, Invoice, InvoiceLine, ReminderSent
from csp_portal.accounts.models import CustomerContact, Membership, Partner
from tests.conftest import portal_client
from tickets.models import Ticket, TicketCounter, TicketMessage

TINY = Sizes(partners=2, customers=4, tickets=20, invoices=10)


@pytest.fixture
def seeded(db):
    return Seeder(TINY, log=lambda _message: None).run()


def test_seeder_fills_every_table_it_promises(seeded):
    assert seeded["rows"]["tickets"] == 20
    assert Partner.objects.count() == 2
    assert Ticket.objects.unscoped().count() == 20
    assert TicketMessage.objects.unscoped().count() == 80
    assert Invoice.objects.unscoped().count() == 10
    assert InvoiceLine.objects.unscoped().count() == 20
    assert CustomerContact.objects.unscoped().count() == 4
    assert CollectionPolicy.objects.unscoped().count() == 2
    assert Ticket.objects.unscoped().filter(search_vector__isnull=True).count() == 0
    assert ReminderSent.objects.unscoped().count() == seeded["rows"]["reminders"]


def test_seeded_counters_continue_after_the_seeded_numbers(seeded):
    for counter in TicketCounter.objects.unscoped():
        highest = (
            Ticket.objects.unscoped()
            .filter(partner_id=counter.partner_id)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        assert counter.last_number == (highest or 1000)


def test_seeded_tables_are_under_row_level_security_again(seeded):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname = %s", ["tickets_ticket"]
        )
        assert cursor.fetchone() == (True,)


def test_seeded_pages_answer(seeded):
    partner = Partner.objects.get(pk=1)
    staff = (
        Membership.objects.for_partner(partner).filter(roles__contains=["global_admin"]).get().user
    )
    Authenticator.objects.create(user=staff, type="totp", data={"secret": "x"})
    ticket = Ticket.objects.for_partner(partner).order_by("pk").first()
    client = portal_client(partner, staff)

    assert client.get("/staff/tickets/").status_code == 200
    assert client.get(f"/staff/tickets/{ticket.pk}/").status_code == 200
    assert client.get("/staff/tickets/", {"view": "all", "q": "licence"}).status_code == 200


def _figures(rps, queries):
    return {
        "rps": rps,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
        "p99_ms": 30.0,
        "queries": queries,
        "errors": 0,
        "worker_peak_rss_mb": 90.0,
    }


def test_report_writes_json_and_markdown_with_targets(tmp_path):
    pages = {"bare_view": _figures(1000, 3), "agent_ticket_list": _figures(40, 9)}
    results = {
        "sizes": {
            "small": {"sizes": TINY.as_dict(), "pages": pages},
            "large": {"sizes": TINY.as_dict(), "pages": pages | {"ticket_page": _figures(100, 14)}},
        },
        "meta": {"scale": 1.0},
    }

    report.write(results, directory=tmp_path)

    assert json.loads((tmp_path / "results.json").read_text())["sizes"]["large"]["pages"]
    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "| Agent ticket list | large | 40 | 10.0 | 20.0 | 30.0 | 9 | 4.0% | 0 |" in markdown
    assert "| Agent ticket list: ≥ 5% of the bare view | 4.0% | **miss** |" in markdown
    assert "| Ticket page: ≤ 12 queries, same at both sizes | None → 14 | **miss** |" in markdown
    assert "| Agent ticket list: p99 < 100 ms | 30.0 ms | pass |" in markdown
