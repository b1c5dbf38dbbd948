"""A request can name the subscription it concerns (from the customer's own list), and the
form says when to expect an answer."""

import pytest

from billing.models import Subscription
from tickets.models import Ticket

FORM = {
    "kind": "subscription",
    "product": "microsoft_365",
    "subject": "Add five seats",
    "body": "We hired five people.",
    "impact": "low",
    "urgency": "low",
}


def _subscription(tenant, customer, name, status="active"):
    return Subscription.objects.create(
        partner=tenant.partner,
        customer=customer,
        partner_center_id=f"{name}-{customer.pk}",
        offer_name=name,
        quantity=10,
        status=status,
    )


@pytest.mark.django_db
def test_the_form_offers_only_the_customers_own_subscriptions_and_the_response_times(
    tenant_a, tenant_b
):
    _subscription(tenant_a, tenant_a.customer, "Microsoft 365 E3")
    _subscription(tenant_a, tenant_a.other_customers[0], "Someone else's plan")
    _subscription(tenant_b, tenant_b.customer, "Bravo plan")

    page = tenant_a.client(tenant_a.customer_user.user).get("/requests/new/").content.decode()

    assert "Microsoft 365 E3 (10)" in page
    assert "Someone else" not in page
    assert "Bravo plan" not in page
    assert "First answer within" in page
    assert "30 minutes" in page  # the default first-response target of urgent requests


@pytest.mark.django_db
def test_a_request_records_the_chosen_subscription(tenant_a):
    subscription = _subscription(tenant_a, tenant_a.customer, "Microsoft 365 E3")

    response = tenant_a.client(tenant_a.customer_user.user).post(
        "/requests/new/", {**FORM, "subscription": subscription.partner_center_id}
    )

    ticket = Ticket.objects.for_partner(tenant_a.partner).get()
    assert response.status_code == 302
    assert ticket.subscription_ref == subscription.partner_center_id
    assert ticket.subscription_name == "Microsoft 365 E3 (10)"
    staff_page = (
        tenant_a.client(tenant_a.admin.user).get(f"/staff/tickets/{ticket.pk}/").content.decode()
    )
    assert "Microsoft 365 E3 (10)" in staff_page


@pytest.mark.django_db
def test_another_customers_subscription_is_refused_and_nothing_is_created(tenant_a):
    _subscription(tenant_a, tenant_a.customer, "Microsoft 365 E3")
    foreign = _subscription(tenant_a, tenant_a.other_customers[0], "Someone else's plan")

    response = tenant_a.client(tenant_a.customer_user.user).post(
        "/requests/new/", {**FORM, "subscription": foreign.partner_center_id}
    )

    assert response.status_code == 400
    assert not Ticket.objects.for_partner(tenant_a.partner).exists()
