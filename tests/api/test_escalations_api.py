"""Escalations through the API: staff read them with their history; customers' users and
tokens without the scope do not."""

import pytest

from csp_portal.accounts.models import Role
from csp_portal.api.models import Scope
from tests.api.conftest import api_client, issue


@pytest.mark.django_db
def test_staff_read_escalations_with_their_history(tenant_a, tenant_b):
    escalation = tenant_a.escalation
    tenant_b.escalation  # noqa: B018 - another partner's, which must not show
    _, key = issue(
        tenant_a, tenant_a.staff[Role.HELPDESK_AGENT].user, scopes=[Scope.ESCALATIONS_READ]
    )

    listing = api_client(tenant_a.partner, key).get("/api/v1/escalations/").json()["results"]
    detail = api_client(tenant_a.partner, key).get(f"/api/v1/escalations/{escalation.pk}/").json()

    assert [e["id"] for e in listing] == [escalation.pk]
    assert detail["ticket"] == escalation.ticket_id
    assert detail["channel"] == escalation.channel
    assert isinstance(detail["events"], list)


@pytest.mark.django_db
def test_customers_and_tokens_without_the_scope_do_not_read_escalations(tenant_a):
    tenant_a.escalation  # noqa: B018
    _, customer_key = issue(tenant_a, tenant_a.customer_admin.user)
    _, ticket_key = issue(tenant_a, tenant_a.admin.user, scopes=[Scope.TICKETS_READ])

    assert api_client(tenant_a.partner, customer_key).get("/api/v1/escalations/").status_code == 403
    assert api_client(tenant_a.partner, ticket_key).get("/api/v1/escalations/").status_code == 403
