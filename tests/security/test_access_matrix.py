"""The access matrix: every URL of the partner portal and every API route × every role × own
ids, another tenant's ids and another tenant's portal.

What each page requires is read from its declarations (a staff page's `capability`, a customer
page's `admin_only`, an API viewset's `staff_read`/`staff_write`/`contact_read`/
`contact_write`) and the roles that grant it from roles.CAPABILITY_ROLES; DESIGN_TABLE below
is written by hand from the design's role table for the key pages, and must agree with both
the declarations and what the server answers — so a page whose declaration drifts from the
design fails here, not only one whose behaviour drifts from its declaration.

The routes are enumerated from the URLconf and the API router (the walkers of
tests/accounts/test_cross_tenant.py and tests/api/test_cross_tenant_api.py), so a new page is
checked without anyone remembering. Partner B's data is fingerprinted around every run: no
request of partner A's people changes it.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from csp_portal.accounts.access import ANY_STAFF, CustomerMixin, StaffMixin
from csp_portal.accounts.models import Invitation
from csp_portal.accounts.roles import CAPABILITY_ROLES, Capability, Role
from csp_portal.accounts.tenancy import TenantModel
from csp_portal.api.urls import router
from tests.accounts.test_cross_tenant import OBJECT_IDS, partner_routes
from tests.api.conftest import api_client, issue
from tests.api.test_cross_tenant_api import API_OBJECTS

STAFF_ROLES = [role.value for role in Role]
CUSTOMER_ROLES = ["customer_admin", "customer_user"]
ROLES = [*STAFF_ROLES, *CUSTOMER_ROLES, "anonymous"]

GA, UA, AA, HA, BA, SA = (
    "global_admin",
    "user_admin",
    "admin_agent",
    "helpdesk_agent",
    "billing_admin",
    "sales_agent",
)
CA, CU = "customer_admin", "customer_user"

# Written from ../shared/DESIGN.md's role table, not from the code: who may open (GET) each
# key page of their own partner. Every other signed-in role gets 403 (a member) or 404 (not a
# member of the workspace / not a contact of the portal).
DESIGN_TABLE = {
    # global admin: branding, policies, entitlements and API tokens
    "staff:settings": {GA},
    "staff:support-offering": {GA},
    "api-tokens:list": {GA},
    "escalation:entitlements": {GA},
    "audit:event-list": {GA},
    # user management admin: invite, deactivate and change roles of staff
    "staff:team": {GA, UA},
    "staff:membership-edit": {GA, UA},
    # customers: everyone who works with customers (not the user management admin)
    "staff:customer-list": {GA, AA, HA, BA, SA},
    "staff:customer-edit": {GA, AA, HA, SA},
    # tickets: agents work them, sales agents read them
    "tickets:ticket-list": {GA, AA, HA, BA, SA},
    "tickets:ticket-detail": {GA, AA, HA, BA, SA},
    "tickets:ticket-create": {GA, AA, HA, BA},
    "escalation:escalation-create": {GA, AA, HA},
    # billing: read by admin agents, managed by billing admins; sales agents: no billing
    "billing:dashboard": {GA, AA, BA},
    "billing:account": {GA, AA, BA},
    "billing:policy": {GA, BA},
    "billing:import": {GA, BA},
    # the customer portal
    "requests:request-list": {CA, CU},
    "requests:request-detail": {CA, CU},
    "requests:request-create": {CA, CU},
    "billing-portal:invoices": {CA},
    "billing-portal:inquiry": {CA},
    "portal:company-users": {CA},
}
# ... and who may act (POST) on these.
DESIGN_POST_TABLE = {
    "billing:payment-create": {GA, BA},
    "billing:suspend": {GA, AA, BA},
    "tickets:ticket-detail": {GA, AA, HA, BA},
    "tickets:ticket-update": {GA, AA, HA, BA},
    "staff:customer-invite": {GA, UA},
    "staff:team": {GA, UA},
    "api-tokens:list": {GA},
}

# Views that check a second capability for POST inside the view (`require_work()`), which no
# class attribute declares.
POST_CAPABILITY = {
    "tickets:ticket-list": Capability.TICKETS_WORK,
    "tickets:ticket-detail": Capability.TICKETS_WORK,
    "tickets:ticket-update": Capability.TICKETS_WORK,
    "tickets:ticket-merge": Capability.TICKETS_WORK,
    "tickets:canned-list": Capability.TICKETS_WORK,
    "tickets:canned-edit": Capability.TICKETS_WORK,
}

# Pages on a partner's portal open to anyone (PartnerMixin only): what GET answers.
PUBLIC_GET = {
    # staff are sent on to their workspace — on their own portal only
    "portal:home": {"anonymous": {200}, "staff": {302}, "customer": {200}, "elsewhere": {200}},
    "portal:support-offering": {"*": {200}},
    "portal:logo": {"*": {404}},  # the fixture partners have no logo
    "accounts:profile": {"anonymous": {302}, "*": {200}},
    "accounts:invitation-accept": {"*": {200}},
}

ALLOWED_GET = {200}
# A permitted POST with an empty body: a form error, a redirect or a done action — never a
# refusal and never a crash.
ALLOWED_POST = {200, 201, 202, 204, 302, 400, 409, 422}
REFUSALS = {401, 403, 404, 405}


def _kind(view_class) -> str:
    if view_class is None:
        return "function"
    if issubclass(view_class, StaffMixin):
        return "staff"
    if issubclass(view_class, CustomerMixin):
        return "customer"
    return "public"


def _page_routes():
    routes = []
    for route, name, entry in partner_routes():
        view_class = getattr(entry.callback, "view_class", None)
        methods = [m for m in ("get", "post") if view_class and hasattr(view_class, m)]
        routes.append((route, name, view_class, methods))
    return routes


def _allows(role: str, capability) -> bool:
    if capability == ANY_STAFF:
        return role in STAFF_ROLES
    return role in {r.value for r in CAPABILITY_ROLES[Capability(capability)]}


def _page_allowed(role: str, name: str, view_class, method: str) -> bool:
    """Whether `role` may use the page on its own partner, from the view's declarations."""
    kind = _kind(view_class)
    if kind == "staff":
        capability = view_class.capability
        if method == "post" and name in POST_CAPABILITY:
            return _allows(role, capability) and _allows(role, POST_CAPABILITY[name])
        return role in STAFF_ROLES and _allows(role, capability)
    if kind == "customer":
        return role == CA or (role == CU and not view_class.admin_only)
    raise AssertionError(kind)


def _page_expected(role, case, name, view_class, method, has_ids) -> set[int]:
    kind = _kind(view_class)
    if kind == "public":
        return _public_expected(role, case, name, method)
    if role == "anonymous":
        return {302}  # to sign-in, whatever the ids
    members = STAFF_ROLES if kind == "staff" else CUSTOMER_ROLES
    if role not in members or case == "foreign_portal":
        return {404}  # not a member / not a contact: the page does not exist for them
    allowed = _page_allowed(role, name, view_class, method)
    if case == "foreign_ids":
        # A refusal for the action comes first where the page is refused whatever the id;
        # where it is allowed, another tenant's id is a missing one.
        return {404} if allowed else {403, 404}
    if not allowed:
        return {403}
    return ALLOWED_GET if method == "get" else ALLOWED_POST


def _public_expected(role, case, name, method):
    if name == "accounts:invitation-accept":
        # an invitation is found by its secret token on its own partner's portal only
        if case == "foreign_ids":
            return {404}
        return {200} if method == "get" else {302, 400}
    if method == "post":  # one's profile: sign-in first
        return {302} if role == "anonymous" else ALLOWED_POST
    table = PUBLIC_GET[name]
    group = "anonymous" if role == "anonymous" else ("staff" if role in STAFF_ROLES else "customer")
    if case == "foreign_portal" and group != "anonymous":
        group = "elsewhere"
    return table.get(group) or table["*"]


def _build(route: str, tenant) -> str:
    def value(match):
        name = match.group("name")
        assert name in OBJECT_IDS, f"URL argument <{name}> in {route!r}: add it to OBJECT_IDS"
        return str(OBJECT_IDS[name](tenant))

    return "/" + re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, route)


def _person(tenant, role):
    if role == "anonymous":
        return None
    if role in STAFF_ROLES:
        return tenant.staff[role].user
    return getattr(tenant, role).user


def _materialise(tenant):
    tenant.invitation = Invitation.objects.create(
        partner=tenant.partner, email=f"new@{tenant.partner.slug}.example", roles=["sales_agent"]
    )
    for make in OBJECT_IDS.values():
        make(tenant)
    tenant.data_export.file.save("export.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    for make in API_OBJECTS.values():
        make(tenant)


def fingerprint(partner) -> dict:
    """Every tenant row of `partner`, all columns: what nothing of another partner may touch."""
    rows = {}
    for model in apps.get_models():
        if issubclass(model, TenantModel) and model._meta.managed and not model._meta.proxy:
            rows[model._meta.label] = list(
                model.objects.for_partner(partner).order_by("pk").values()
            )
    return rows


@pytest.fixture
def tenants(tenant_a, tenant_b):
    _materialise(tenant_a)
    _materialise(tenant_b)
    return tenant_a, tenant_b


# -- the table itself ---------------------------------------------------------------------


def test_the_design_table_agrees_with_the_declarations():
    pages = {name: (view_class, methods) for _, name, view_class, methods in _page_routes()}
    disagreements = []
    for table, method in ((DESIGN_TABLE, "get"), (DESIGN_POST_TABLE, "post")):
        for name, allowed in table.items():
            assert name in pages, f"{name} is no longer a page: update DESIGN_TABLE"
            view_class, methods = pages[name]
            assert method in methods, (name, method)
            declared = {
                role
                for role in STAFF_ROLES + CUSTOMER_ROLES
                if _kind(view_class) in ("staff", "customer")
                and (role in STAFF_ROLES) == (_kind(view_class) == "staff")
                and _page_allowed(role, name, view_class, method)
            }
            if declared != allowed:
                disagreements.append((name, method, sorted(declared ^ allowed)))
    assert disagreements == []


def test_every_page_is_classified():
    for route, name, view_class, _methods in _page_routes():
        kind = _kind(view_class)
        if kind == "function":
            assert name in {"healthz", "readyz", "metrics"}, f"{route}: a function view"
        elif kind == "public":
            assert name in PUBLIC_GET, f"{name}: a page without StaffMixin or CustomerMixin"
        elif kind == "staff":
            assert view_class.capability is not None, name


# -- pages --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role_and_tenant(tenants, role):
    a, b = tenants
    user = _person(a, role)
    own = a.client(user)
    foreign_portal = b.client(user)
    before = fingerprint(b.partner)
    wrong = []
    checked = 0

    for route, name, view_class, methods in _page_routes():
        if _kind(view_class) == "function":
            continue
        has_ids = "<" in route
        cases = [("own", own, _build(route, a))]
        if has_ids:
            cases.append(("foreign_ids", own, _build(route, b)))
        cases.append(("foreign_portal", foreign_portal, _build(route, b)))
        for case, client, url in cases:
            for method in methods:
                response = client.get(url) if method == "get" else client.post(url, {})
                expected = _page_expected(role, case, name, view_class, method, has_ids)
                checked += 1
                if response.status_code not in expected:
                    wrong.append((method.upper(), url, case, response.status_code, expected))
                elif response.status_code == 302 and role == "anonymous" and name not in PUBLIC_GET:
                    if "/accounts/login/" not in response["Location"]:
                        wrong.append((method.upper(), url, case, response["Location"]))

    print(f"\naccess matrix, pages, {role}: {checked} (route, role, case, method) checks")
    assert wrong == [], "\n".join(map(str, wrong))
    assert fingerprint(b.partner) == before
    # 60+ pages, about half with ids: a floor that a broken walker cannot pass.
    assert checked >= 150


# -- the API ------------------------------------------------------------------------------


def _api_routes():
    """(basename, url name, detail, viewset, [(http method, action)])."""
    routes = []
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            name = route.name.format(basename=basename)
            methods = [(m, a) for m, a in route.mapping.items() if hasattr(viewset, a)]
            if methods:
                routes.append((basename, name, route.detail, viewset, methods))
    return routes


def _api_allowed(role, viewset, method, contact) -> bool:
    reading = method in ("get", "head", "options")
    if role in STAFF_ROLES:
        capability = viewset.staff_read if reading else viewset.staff_write
        return capability is not None and _allows(role, capability)
    view = viewset()
    view.contact = contact
    return bool(view.contact_read if reading else view.contact_write)


# Methods that a viewset refuses to customers' users inside the method (before looking the
# object up), beyond what contact_write declares.
STAFF_ONLY_METHODS = {("ticket", "patch")}


def _api_expected(role, case, basename, detail, viewset, method, contact):
    if role == "anonymous" or case == "foreign_portal_token":
        return {401}
    if case == "foreign_portal":
        return {404}
    allowed = _api_allowed(role, viewset, method, contact)
    if (basename, method) in STAFF_ONLY_METHODS and role not in STAFF_ROLES:
        allowed = False
    if not allowed:
        return {403}
    if case == "foreign_ids":
        return {404}
    if method == "get":
        return {200}
    return ALLOWED_POST - {302}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_api_route_for_every_role_and_tenant(tenants, role):
    a, b = tenants
    user = _person(a, role)
    key = issue(a, user)[1] if user is not None else None
    contact = getattr(a, role) if role in CUSTOMER_ROLES else None
    own = api_client(a.partner, key)
    session_elsewhere = b.client(user)
    token_elsewhere = api_client(b.partner, key)
    before = fingerprint(b.partner)
    wrong = []
    checked = 0

    for basename, name, detail, viewset, methods in _api_routes():
        if detail:
            own_url = _api_url(name, API_OBJECTS[basename](a))
            foreign_url = _api_url(name, API_OBJECTS[basename](b))
            cases = [("own", own, own_url), ("foreign_ids", own, foreign_url)]
        else:
            foreign_url = _api_url(name)
            cases = [("own", own, foreign_url)]
        if user is not None:
            cases.append(("foreign_portal", session_elsewhere, foreign_url))
            cases.append(("foreign_portal_token", token_elsewhere, foreign_url))
        for case, client, url in cases:
            for method, _action in methods:
                if method == "get":
                    response = client.get(url)
                else:
                    response = getattr(client, method)(url, {}, content_type="application/json")
                expected = _api_expected(role, case, basename, detail, viewset, method, contact)
                checked += 1
                if response.status_code not in expected:
                    wrong.append((method.upper(), url, case, response.status_code, expected))

    print(f"\naccess matrix, API, {role}: {checked} (route, role, case, method) checks")
    assert wrong == [], "\n".join(map(str, wrong))
    assert fingerprint(b.partner) == before
    assert checked >= 40


def _api_url(name, pk=None):
    kwargs = {"pk": pk} if pk is not None else {}
    return reverse(f"v1:{name}", urlconf=settings.PARTNER_URLCONF, kwargs=kwargs)
