"""Billing through the API: who sees what by role, customers only their own company, money as
decimal strings with a currency code, payments recorded once, bad input refused whole."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from billing.models import BillingInquiry, Invoice, Payment, Suspension
from csp_portal.accounts.models import Role
from tests.api.conftest import api_client, issue
from tests.factories import ContactFactory
from tests.factories.billing import InvoiceFactory, PolicyFactory, SubscriptionFactory

TODAY = datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)


def _client(tenant, user):
    return api_client(tenant.partner, issue(tenant, user)[1])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.GLOBAL_ADMIN, 200),
        (Role.BILLING_ADMIN, 200),
        (Role.ADMIN_AGENT, 200),
        (Role.HELPDESK_AGENT, 403),
        (Role.SALES_AGENT, 403),
        (Role.USER_ADMIN, 403),
    ],
)
def test_staff_read_invoices_by_role(tenant_a, role, status):
    tenant_a.invoice  # noqa: B018

    response = _client(tenant_a, tenant_a.staff[role].user).get("/api/v1/invoices/")

    assert response.status_code == status


@pytest.mark.django_db
def test_an_invoice_has_its_lines_and_money_as_strings_with_currency(tenant_a, staff_key):
    invoice = tenant_a.invoice

    body = api_client(tenant_a.partner, staff_key).get(f"/api/v1/invoices/{invoice.pk}/").json()

    assert body["number"] == invoice.number
    assert (body["total"], body["balance"], body["currency"]) == ("121.00", "121.00", "EUR")
    assert body["lines"][0]["amount"] == "100.00"
    assert body["lines"][0]["currency"] == "EUR"


@pytest.mark.django_db
def test_customer_admin_sees_only_its_company_and_a_customer_user_sees_no_billing(tenant_a):
    own = tenant_a.invoice
    InvoiceFactory(customer=tenant_a.other_customers[0])
    PolicyFactory(partner=tenant_a.partner)
    admin = _client(tenant_a, tenant_a.customer_admin.user)
    user = _client(tenant_a, tenant_a.customer_user.user)

    listed = admin.get("/api/v1/invoices/").json()["results"]

    assert [row["id"] for row in listed] == [own.pk]
    for path in ("invoices", "payments", "subscriptions", "billing-inquiries", "suspensions"):
        assert user.get(f"/api/v1/{path}/").status_code == 403, path
    assert admin.get("/api/v1/suspensions/").status_code == 200
    assert user.get("/api/v1/collection-policies/current/").status_code == 200
    assert admin.get("/api/v1/collection-policies/current/").status_code == 200


@pytest.mark.django_db
def test_a_customer_token_never_sees_another_customers_invoice(tenant_a):
    foreign = InvoiceFactory(customer=tenant_a.other_customers[0])
    client = _client(tenant_a, tenant_a.customer_admin.user)

    detail = client.get(f"/api/v1/invoices/{foreign.pk}/")
    pdf = client.get(f"/api/v1/invoices/{foreign.pk}/pdf/")
    filtered = client.get(f"/api/v1/invoices/?customer={foreign.customer_id}")

    assert detail.status_code == 404
    assert detail["Content-Type"] == "application/problem+json"
    assert pdf.status_code == 404
    assert filtered.json()["results"] == []


@pytest.mark.django_db
def test_invoices_filter_by_status_customer_and_due_dates_and_order(tenant_a, staff_key):
    early = InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 1, 15))
    late = InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 3, 15))
    paid = InvoiceFactory(
        customer=tenant_a.other_customers[0],
        due_date=datetime.date(2026, 2, 15),
        status=Invoice.Status.PAID,
    )
    client = api_client(tenant_a.partner, staff_key)

    def ids(query):
        return [row["id"] for row in client.get(f"/api/v1/invoices/?{query}").json()["results"]]

    assert ids("ordering=due_date") == [early.pk, paid.pk, late.pk]
    assert ids("ordering=-due_date") == [late.pk, paid.pk, early.pk]
    assert ids("status=paid") == [paid.pk]
    assert ids(f"customer={tenant_a.customer.pk}&ordering=due_date") == [early.pk, late.pk]
    assert ids("due_after=2026-02-01&due_before=2026-02-28") == [paid.pk]
    assert client.get("/api/v1/invoices/?due_after=soon").status_code == 400


@pytest.mark.django_db
def test_invoice_pdf_downloads(tenant_a, staff_key):
    response = api_client(tenant_a.partner, staff_key).get(
        f"/api/v1/invoices/{tenant_a.invoice.pk}/pdf/"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def _payment(owner, **changes):
    return {
        "customer": owner.pk,
        "amount": "150.00",
        "currency": "EUR",
        "received_on": "2026-03-09",
        "method": "bank_transfer",
        "reference": "NL12-0001",
        **changes,
    }


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_recording_a_payment_allocates_it_and_keeps_the_rest_as_credit(tenant_a):
    invoice = tenant_a.invoice
    client = _client(tenant_a, tenant_a.staff[Role.BILLING_ADMIN].user)

    response = client.post(
        "/api/v1/payments/", _payment(tenant_a.customer), content_type="application/json"
    )

    body = response.json()
    invoice.refresh_from_db()
    assert response.status_code == 201
    assert (body["amount"], body["credit"], body["currency"]) == ("150.00", "29.00", "EUR")
    assert body["allocations"] == [{"invoice": invoice.pk, "amount": "121.00", "currency": "EUR"}]
    assert invoice.status == Invoice.Status.PAID


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_a_retried_payment_is_recorded_once(tenant_a):
    client = _client(tenant_a, tenant_a.staff[Role.BILLING_ADMIN].user)
    send = lambda: client.post(  # noqa: E731
        "/api/v1/payments/",
        _payment(tenant_a.customer),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="bank-line-0001",
    )

    first, second = send(), send()

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payment.objects.for_partner(tenant_a.partner).count() == 1


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-10.00"}, "amount"),
        ({"amount": "ten euros"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": "1e40"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": ""}, "currency"),
        ({"method": "cash-in-a-bag"}, "method"),
        ({"received_on": "2026-04-01"}, "received_on"),
        ({"customer": 10**9}, "customer"),
        ({"tip": "1.00"}, "tip"),
    ],
)
def test_bad_payments_are_a_400_problem_naming_the_field_and_write_nothing(
    tenant_a, changes, field
):
    invoice = tenant_a.invoice
    client = _client(tenant_a, tenant_a.staff[Role.BILLING_ADMIN].user)

    response = client.post(
        "/api/v1/payments/", _payment(tenant_a.customer, **changes), content_type="application/json"
    )

    invoice.refresh_from_db()
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not Payment.objects.for_partner(tenant_a.partner).exists()
    assert invoice.amount_paid == Decimal("0.00")


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_only_billing_managers_record_payments_and_customers_never(tenant_a):
    for user in (tenant_a.staff[Role.ADMIN_AGENT].user, tenant_a.customer_admin.user):
        response = _client(tenant_a, user).post(
            "/api/v1/payments/", _payment(tenant_a.customer), content_type="application/json"
        )
        assert response.status_code == 403
    read_only = issue(tenant_a, tenant_a.admin.user, scopes=["billing:read"])[1]
    response = api_client(tenant_a.partner, read_only).post(
        "/api/v1/payments/", _payment(tenant_a.customer), content_type="application/json"
    )

    assert response.status_code == 403
    assert not Payment.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_suspend_and_reinstate_a_subscription_with_a_reason(
    tenant_a, django_capture_on_commit_callbacks
):
    subscription = SubscriptionFactory(customer=tenant_a.customer)
    client = _client(tenant_a, tenant_a.staff[Role.BILLING_ADMIN].user)
    url = f"/api/v1/subscriptions/{subscription.pk}/"

    no_reason = client.post(f"{url}suspend/", {}, content_type="application/json")
    with django_capture_on_commit_callbacks() as sent:
        suspended = client.post(
            f"{url}suspend/", {"reason": "Asked by finance"}, content_type="application/json"
        )
    reinstated = client.post(
        f"{url}reinstate/", {"reason": "Paid after all"}, content_type="application/json"
    )
    again = client.post(f"{url}reinstate/", {"reason": "Twice"}, content_type="application/json")

    suspension = Suspension.objects.for_partner(tenant_a.partner).get()
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    assert suspended.status_code == 201
    assert suspended.json()["note"] == "Asked by finance"
    assert len(sent) >= 1
    assert reinstated.status_code == 200
    assert suspension.state == Suspension.State.CANCELLED
    assert suspension.reversal_reason == "Paid after all"
    assert again.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [(Role.HELPDESK_AGENT, 403), (Role.SALES_AGENT, 403)])
def test_staff_without_the_suspend_capability_cannot_suspend(tenant_a, role, status):
    subscription = SubscriptionFactory(customer=tenant_a.customer)

    response = _client(tenant_a, tenant_a.staff[role].user).post(
        f"/api/v1/subscriptions/{subscription.pk}/suspend/",
        {"reason": "x"},
        content_type="application/json",
    )

    assert response.status_code == status
    assert not Suspension.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_a_customer_admin_cannot_suspend_its_own_subscription(tenant_a):
    subscription = SubscriptionFactory(customer=tenant_a.customer)

    response = _client(tenant_a, tenant_a.customer_admin.user).post(
        f"/api/v1/subscriptions/{subscription.pk}/suspend/",
        {"reason": "x"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not Suspension.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_the_current_policy_is_the_newest_published_version(tenant_a, tenant_b):
    PolicyFactory(partner=tenant_a.partner, version=1, grace_days=5)
    PolicyFactory(partner=tenant_a.partner, version=2, grace_days=9)
    PolicyFactory(partner=tenant_b.partner, version=7)

    body = _client(tenant_a, tenant_a.customer_user.user).get(
        "/api/v1/collection-policies/current/"
    )

    assert body.json()["version"] == 2
    assert body.json()["grace_days"] == 9
    assert body.json()["minimum_overdue_amount"] == "50.00"


@pytest.mark.django_db
def test_no_published_policy_is_a_404_problem(tenant_a):
    response = _client(tenant_a, tenant_a.customer_user.user).get(
        "/api/v1/collection-policies/current/"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_customer_admin_asks_about_its_invoice_and_billing_staff_see_it(tenant_a):
    invoice = tenant_a.invoice
    foreign = InvoiceFactory(customer=tenant_a.other_customers[0])
    admin = _client(tenant_a, tenant_a.customer_admin.user)
    body = {"invoice": invoice.pk, "kind": "dispute", "message": "We cancelled in December."}

    created = admin.post("/api/v1/billing-inquiries/", body, content_type="application/json")
    refused = admin.post(
        "/api/v1/billing-inquiries/",
        {**body, "invoice": foreign.pk},
        content_type="application/json",
    )
    staff_list = _client(tenant_a, tenant_a.staff[Role.BILLING_ADMIN].user).get(
        "/api/v1/billing-inquiries/"
    )
    stranger = ContactFactory(customer=tenant_a.other_customers[0], role="admin")
    stranger_list = _client(tenant_a, stranger.user).get("/api/v1/billing-inquiries/")

    inquiry = BillingInquiry.objects.for_partner(tenant_a.partner).get()
    assert created.status_code == 201
    assert created.json()["ticket_reference"] == inquiry.ticket.reference
    assert invoice.holds.filter(released_at__isnull=True).count() == 1
    assert refused.status_code == 400
    assert "invoice" in refused.json()["errors"]
    assert [row["id"] for row in staff_list.json()["results"]] == [inquiry.pk]
    assert stranger_list.json()["results"] == []
    assert BillingInquiry.objects.for_partner(tenant_a.partner).count() == 1


@pytest.mark.django_db
def test_customer_users_cannot_ask_billing_questions(tenant_a):
    response = _client(tenant_a, tenant_a.customer_user.user).post(
        "/api/v1/billing-inquiries/",
        {"invoice": tenant_a.invoice.pk, "kind": "copy", "message": "A copy please"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not BillingInquiry.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_suspensions_are_listed_for_billing_staff(tenant_a, tenant_b):
    own = tenant_a.suspension
    tenant_b.suspension  # noqa: B018

    listed = _client(tenant_a, tenant_a.staff[Role.BILLING_ADMIN].user).get("/api/v1/suspensions/")

    assert [row["id"] for row in listed.json()["results"]] == [own.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 6])
def test_the_invoice_list_costs_the_same_at_two_sizes(
    tenant_a, staff_key, size, django_assert_num_queries
):
    InvoiceFactory.create_batch(size, customer=tenant_a.customer)
    client = api_client(tenant_a.partner, staff_key)
    client.get("/api/v1/invoices/")  # warm: token last-used, throttle

    with django_assert_num_queries(QUERIES_INVOICE_LIST):
        response = client.get("/api/v1/invoices/")

    assert len(response.json()["results"]) == size


QUERIES_INVOICE_LIST = 9
