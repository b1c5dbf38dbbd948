"""Generated from the URLconf: every partner-portal URL that takes an id, requested as a
user of partner A with partner B's ids, answers 404 — and a portal of a partner one does not
belong to shows none of its workspace. A new view is covered without anyone remembering; a
new kind of URL argument fails here until it is added to OBJECT_IDS."""

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from csp_portal.accounts.models import Customer, Invitation, Membership

# URL argument name -> partner B's value for it (the tenant fixture's objects).
OBJECT_IDS = {
    "customer_id": lambda t: t.customer.pk,
    "contact_id": lambda t: t.customer_user.pk,
    "membership_id": lambda t: t.staff["helpdesk_agent"].pk,
    "invitation_id": lambda t: t.invitation.pk,
    "token": lambda t: t.invitation.token,
    "ticket_id": lambda t: t.ticket.pk,
    "attachment_id": lambda t: t.attachment.pk,
    "canned_id": lambda t: t.canned_response.pk,
    "escalation_id": lambda t: t.escalation.pk,
    "invoice_id": lambda t: t.invoice.pk,
    "suspension_id": lambda t: t.suspension.pk,
    "reminder_id": lambda t: t.reminder.pk,
    "action": lambda t: "approve",
    "inbound_id": lambda t: t.inbound_message.pk,
    "token_id": lambda t: t.api_token.pk,
    "endpoint_id": lambda t: t.webhook_endpoint.pk,
    "delivery_id": lambda t: t.webhook_delivery.pk,
    "export_id": lambda t: t.data_export.pk,
}

# Third-party URLs whose arguments are not tenant objects (sign-in keys, provider names), and
# the API, whose router-made routes tests/api/test_cross_tenant_api.py generates the same way.
THIRD_PARTY_PREFIXES = ("accounts/", "api/")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def partner_routes():
    resolver = get_resolver(settings.PARTNER_URLCONF)
    return [
        (route, name, entry)
        for route, name, entry in _walk(resolver.url_patterns)
        if not route.startswith(THIRD_PARTY_PREFIXES)
    ]


def _routes_with_ids():
    return [(route, name) for route, name, entry in partner_routes() if entry.pattern.converters]


def _expected(route: str, method: str) -> set[int]:
    """404 where the view answers `method`; where it does not, 405 is the same for every id
    and reveals nothing (a mixin may also refuse first with 404)."""
    entry = next(e for r, n, e in partner_routes() if r == route)
    if hasattr(getattr(entry.callback, "view_class", None), method):
        return {404}
    return {404, 405}


def _build(route: str, tenant) -> str:
    import re

    def value(match):
        name = match.group("name")
        assert name in OBJECT_IDS, f"URL argument <{name}> in {route!r}: add it to OBJECT_IDS"
        return str(OBJECT_IDS[name](tenant))

    return "/" + re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, route)


@pytest.fixture
def b_objects(tenant_b):
    tenant_b.invitation = Invitation.objects.create(
        partner=tenant_b.partner, email="new@bravo.example", roles=["helpdesk_agent"]
    )
    return tenant_b


def test_the_generated_route_list_is_not_empty():
    assert len(_routes_with_ids()) >= 7


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), _routes_with_ids())
@pytest.mark.parametrize("who", ["global_admin", "customer_admin"])
def test_partner_b_ids_answer_404_to_partner_a_users(tenant_a, b_objects, route, name, who):
    user = tenant_a.admin.user if who == "global_admin" else tenant_a.customer_admin.user
    client = tenant_a.client(user)
    url = _build(route, b_objects)
    before = _fingerprint(b_objects)

    get = client.get(url)
    post = client.post(
        url,
        {
            "roles": ["global_admin"],
            "is_active": "on",
            "role": "admin",
            "company_name": "taken",
            "email": "x@evil.example",
            "contact_role": "admin",
            "full_name": "x",
            "password": "Zz9!long-enough",
            "password_again": "Zz9!long-enough",
        },
    )

    assert get.status_code in _expected(route, "get"), f"GET {url} as {who}"
    assert post.status_code in _expected(route, "post"), f"POST {url} as {who}"
    assert _fingerprint(b_objects) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "name"), [(r, n) for r, n, e in partner_routes() if r.startswith("staff/")]
)
def test_partner_b_workspace_does_not_exist_for_partner_a_staff(tenant_a, b_objects, route, name):
    client = b_objects.client(tenant_a.admin.user)

    response = client.get(_build(route, b_objects))

    assert response.status_code == 404


@pytest.mark.django_db
def test_partner_b_company_pages_do_not_exist_for_partner_a_customers(tenant_a, b_objects):
    client = b_objects.client(tenant_a.customer_admin.user)

    assert client.get("/company/users/").status_code == 404


def _fingerprint(tenant):
    partner = tenant.partner
    return (
        list(
            Customer.objects.for_partner(partner)
            .order_by("pk")
            .values_list("company_name", "status")
        ),
        list(
            Membership.objects.for_partner(partner).order_by("pk").values_list("roles", "is_active")
        ),
        list(
            Invitation.objects.for_partner(partner)
            .order_by("pk")
            .values_list("email", "accepted_at", "revoked_at")
        ),
        tenant.customer.contacts.order_by("pk").count(),
    )
