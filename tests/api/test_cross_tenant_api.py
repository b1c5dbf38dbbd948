"""Generated from the API router: every detail route (and detail action), requested with a
token of partner A (staff and customer) and partner B's ids, answers 404 and changes nothing;
a customer's token never reaches another customer of the same partner."""

import pytest
from django.conf import settings
from django.urls import reverse

from csp_portal.api.urls import router
from tests.api.conftest import api_client, issue

# router basename -> the object of a tenant that a detail URL of that basename names
API_OBJECTS = {
    "customer": lambda t: t.customer.pk,
    "contact": lambda t: t.customer_user.pk,
    "ticket": lambda t: t.ticket.pk,
    "attachment": lambda t: t.attachment.pk,
    "invoice": lambda t: t.invoice.pk,
    "payment": lambda t: t.payment.pk,
    "subscription": lambda t: t.suspension.subscription.pk,
    "collection-policy": lambda t: t.reminder.policy.pk,
    "suspension": lambda t: t.suspension.pk,
    "billing-inquiry": lambda t: t.billing_inquiry.pk,
    "escalation": lambda t: t.escalation.pk,
}


def detail_routes():
    routes = []
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            if route.detail:
                name = route.name.format(basename=basename)
                methods = [m for m, action in route.mapping.items() if hasattr(viewset, action)]
                routes.append((basename, name, methods))
    return routes


def test_every_basename_is_registered_and_routes_exist():
    basenames = {basename for basename, _, _ in detail_routes()}

    assert basenames == set(API_OBJECTS)
    assert len(detail_routes()) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize(("basename", "name", "methods"), detail_routes())
@pytest.mark.parametrize("who", ["staff", "customer"])
def test_partner_b_ids_answer_404_to_partner_a_tokens(
    tenant_a, tenant_b, basename, name, methods, who
):
    user = tenant_a.admin.user if who == "staff" else tenant_a.customer_admin.user
    _, key = issue(tenant_a, user)
    client = api_client(tenant_a.partner, key)
    foreign = _url(name, API_OBJECTS[basename](tenant_b))
    missing = _url(name, 10**9)
    before = _fingerprint(tenant_b)

    answers = {method: _answer(client, foreign, method) for method in methods}
    same_as_missing = {method: _answer(client, missing, method) for method in methods}

    # A foreign id answers exactly what a missing one does: 404, or 403 for a method (or a
    # whole kind of object, like escalations for customers' users) the caller may never use.
    assert answers == same_as_missing
    assert set(answers.values()) <= {403, 404}, answers
    assert _fingerprint(tenant_b) == before


def _url(name, pk):
    return reverse(f"v1:{name}", urlconf=settings.PARTNER_URLCONF, kwargs={"pk": pk})


def _answer(client, url, method):
    if method == "get":
        return client.get(url).status_code
    body = {"subject": "x", "body": "x", "status": "closed", "company_name": "x"}
    return getattr(client, method)(url, body, content_type="application/json").status_code


def _fingerprint(tenant):
    tenant.ticket.refresh_from_db()
    tenant.customer.refresh_from_db()
    return tenant.ticket.messages.count(), tenant.ticket.status, tenant.customer.company_name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("basename", "name", "methods"),
    # Contacts answer their own tests; the collection policy is the partner's, read by all.
    # Write-only actions (POST) are refused before any object is looked up for customers.
    [r for r in detail_routes() if r[0] not in {"contact", "collection-policy"} and "get" in r[2]],
)
def test_a_customer_token_never_reaches_another_customer_of_the_same_partner(
    tenant_a, basename, name, methods
):
    other = tenant_a.other_customers[0]
    from tests.factories import ContactFactory

    stranger = ContactFactory(customer=other, role="admin")
    _, key = issue(tenant_a, stranger.user)
    url = reverse(
        f"v1:{name}",
        urlconf=settings.PARTNER_URLCONF,
        kwargs={"pk": API_OBJECTS[basename](tenant_a)},
    )

    response = api_client(tenant_a.partner, key).get(url)
    missing = api_client(tenant_a.partner, key).get(
        url.replace(f"/{API_OBJECTS[basename](tenant_a)}/", f"/{10**9}/")
    )

    # 404, or 403 where customers' users may not read this kind of object at all — the same
    # answer as for an id that does not exist.
    assert response.status_code in (403, 404)
    assert response.status_code == missing.status_code
