"""The assignee choices and canned responses the workspace shows from the cache: a change
shows at once, and the pages stay within the query budget."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csp_portal.accounts.models import Role
from tests.factories import MembershipFactory
from tests.factories.tickets import CannedResponseFactory, TicketFactory
from tickets import selectors

pytestmark = pytest.mark.django_db


def test_a_new_canned_response_is_offered_at_once(tenant_a):
    ticket = TicketFactory(customer=tenant_a.customer)
    client = tenant_a.client(tenant_a.admin.user)
    client.get(f"/staff/tickets/{ticket.pk}/")
    CannedResponseFactory(partner=tenant_a.partner, title="Restart the router")

    page = client.get(f"/staff/tickets/{ticket.pk}/").content.decode()

    assert "Restart the router" in page


def test_a_deleted_canned_response_is_no_longer_offered(tenant_a):
    canned = CannedResponseFactory(partner=tenant_a.partner, title="Old advice")
    assert [c.title for c in selectors.canned_response_choices(partner=tenant_a.partner)] == [
        "Old advice"
    ]
    from tickets.models import CannedResponse

    CannedResponse.objects.for_partner(tenant_a.partner).filter(pk=canned.pk).delete()

    assert selectors.canned_response_choices(partner=tenant_a.partner) == []


def test_the_assignee_choices_follow_memberships_and_names(tenant_a, tenant_b):
    before = {m.user_id for m in selectors.assignee_choices(partner=tenant_a.partner)}
    newcomer = MembershipFactory(partner=tenant_a.partner, roles=[Role.HELPDESK_AGENT])
    newcomer.user.full_name = "Nina Newcomer"
    newcomer.user.save()

    after = selectors.assignee_choices(partner=tenant_a.partner)

    assert {m.user_id for m in after} == before | {newcomer.user_id}
    assert "Nina Newcomer" in {m.name for m in after}
    assert newcomer.user_id not in {
        m.user_id for m in selectors.assignee_choices(partner=tenant_b.partner)
    }

    newcomer.is_active = False
    newcomer.save()

    assert newcomer.user_id not in {
        m.user_id for m in selectors.assignee_choices(partner=tenant_a.partner)
    }


def _test_only(sql: str) -> bool:
    """Statements a request sends only because a test runs it inside the test's own
    transaction: the savepoint, and reading and restoring the outer row-level-security
    scope (in production the request's transaction is the outermost: one set_config)."""
    return (
        sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        or "current_setting('csp." in sql
        or "set_config('csp.partner_id', ''" in sql
    )


def _queries(client, url) -> list[str]:
    client.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"][:120] for q in captured.captured_queries if not _test_only(q["sql"])]


@pytest.mark.parametrize(
    "page", ["/staff/tickets/", "/staff/tickets/?q=printer", "ticket", "/staff/"]
)
def test_workspace_pages_stay_within_twelve_queries(tenant_a, page):
    ticket = TicketFactory(customer=tenant_a.customer, subject="Printer offline")
    CannedResponseFactory(partner=tenant_a.partner)
    url = f"/staff/tickets/{ticket.pk}/" if page == "ticket" else page

    queries = _queries(tenant_a.client(tenant_a.admin.user), url)

    assert len(queries) <= 12, "\n".join(queries)
