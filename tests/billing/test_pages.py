"""Billing pages: the overdue dashboard (SVG chart, accounts aggregated and paginated in SQL with
their status and next step, bounded queries at two sizes), tomorrow's dry run with approve, the account page with record payment and suspend, the policy editor,
the import page, and the customer's invoices, PDFs, policy and billing inquiry."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import selectors
from billing.models import (
    BillingInquiry,
    CollectionPolicy,
    InvoiceHold,
    Payment,
    PolicyAcknowledgement,
    Suspension,
)
from tests.factories import CustomerFactory
from tests.factories.billing import (
    InvoiceFactory,
    PolicyFactory,
    ReminderFactory,
    SubscriptionFactory,
    SuspensionFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_queue")]
NOW = datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _billing(tenant):
    return tenant.client(tenant.staff["billing_admin"].user)


def _overdue(tenant, count):
    PolicyFactory(partner=tenant.partner)
    for index in range(count):
        invoice = InvoiceFactory(
            customer=tenant.other_customers[index % len(tenant.other_customers)],
            due_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=index * 9),
        )
        ReminderFactory(invoice=invoice, step=1, is_final_notice=False)


def test_dashboard_shows_aging_chart_and_accounts(tenant_a, tenant_b):
    _overdue(tenant_a, 2)
    _overdue(tenant_b, 4)

    response = _billing(tenant_a).get("/staff/billing/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "31–60" in body
    assert body.count('href="/staff/billing/customers/') == 2


def _overdue_customers(tenant, count):
    """`count` customers, each with two overdue invoices in every state the dashboard shows:
    reminded, final notice sent, on hold, and every fifth customer suspended."""
    PolicyFactory(partner=tenant.partner)
    for index in range(count):
        customer = CustomerFactory(partner=tenant.partner, company_name=f"Customer {index:03d}")
        reminded = InvoiceFactory(customer=customer, due_date=datetime.date(2026, 2, 20))
        ReminderFactory(invoice=reminded, step=7, is_final_notice=False)
        noticed = InvoiceFactory(customer=customer, due_date=datetime.date(2026, 1, 20))
        ReminderFactory(invoice=noticed)
        if index % 3 == 0:
            InvoiceHold.objects.create(partner=tenant.partner, invoice=noticed, reason="Disputed")
        if index % 5 == 0:
            SuspensionFactory(subscription=SubscriptionFactory(customer=customer))


def test_dashboard_query_count_does_not_grow(tenant_a, tenant_b):
    def count(tenant, size):
        _overdue_customers(tenant, size)
        client = _billing(tenant)
        client.get("/staff/billing/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/staff/billing/")
        assert response.content.decode().count('href="/staff/billing/customers/') == size
        return len(queries)

    small = count(tenant_a, 3)
    large = count(tenant_b, 30)

    # Sign-in and scope (4), the policy, the aging buckets, the accounts' count, their page and
    # the page's details (5); in the test's transaction also a savepoint and its release and
    # the outer scope read and restored (4).
    assert small == large == 13


def test_dashboard_pages_the_accounts_keeping_sort_and_filter(tenant_a, tenant_b):
    _overdue_customers(tenant_a, 55)
    _overdue_customers(tenant_b, 3)
    client = _billing(tenant_a)

    first = client.get("/staff/billing/", {"sort": "name", "bucket": "31_60"}).content.decode()
    second = client.get("/staff/billing/", {"sort": "name", "bucket": "31_60", "page": "2"})
    second = second.content.decode()

    assert "55 overdue accounts" in first and "Page 1 of 2" in first
    assert first.count('href="/staff/billing/customers/') == 50
    assert second.count('href="/staff/billing/customers/') == 5
    assert first.index("Customer 000") < first.index("Customer 049")
    assert "Customer 050" not in first and "Customer 054" in second
    assert 'href="?sort=name&amp;bucket=31_60&amp;currency=EUR&amp;page=2"' in first


def test_dashboard_accounts_show_status_and_next_step(tenant_a, tenant_b):
    _overdue_customers(tenant_b, 2)
    policy = PolicyFactory(partner=tenant_a.partner)
    plain, reminded, noticed, held, suspended = (
        CustomerFactory(partner=tenant_a.partner, company_name=name)
        for name in ("Plain", "Reminded", "Noticed", "Held", "Suspended")
    )
    InvoiceFactory(customer=plain, due_date=datetime.date(2026, 3, 8), total="500.00")
    ReminderFactory(
        invoice=InvoiceFactory(customer=reminded, due_date=datetime.date(2026, 3, 1)),
        step=7,
        is_final_notice=False,
    )
    ReminderFactory(
        invoice=InvoiceFactory(customer=noticed, due_date=datetime.date(2026, 2, 1)),
        sent_on=datetime.date(2026, 2, 16),
    )
    InvoiceFactory(customer=noticed, due_date=datetime.date(2026, 3, 5))
    on_hold = InvoiceFactory(customer=held, due_date=datetime.date(2026, 2, 1))
    InvoiceHold.objects.create(partner=tenant_a.partner, invoice=on_hold, reason="Disputed")
    InvoiceFactory(customer=suspended, due_date=datetime.date(2025, 11, 1), currency="EUR")
    SuspensionFactory(subscription=SubscriptionFactory(customer=suspended))
    InvoiceFactory(customer=plain, due_date=datetime.date(2026, 1, 1), currency="USD")

    page = selectors.overdue_accounts_page(
        partner=tenant_a.partner,
        today=datetime.date(2026, 3, 10),
        currency="EUR",
        policy=policy,
        sort="oldest",
    )

    assert [
        (row.company_name, row.overdue, row.days_overdue, row.bucket, row.status)
        for row in page.object_list
    ] == [
        ("Suspended", Decimal("121.00"), 129, "90_plus", "suspended"),
        ("Noticed", Decimal("242.00"), 37, "31_60", "final_notice"),
        ("Held", Decimal("121.00"), 37, "31_60", "on_hold"),
        ("Reminded", Decimal("121.00"), 9, "1_30", "reminded"),
        ("Plain", Decimal("500.00"), 2, "1_30", ""),
    ]
    assert [(row.next_step, row.next_date) for row in page.object_list] == [
        ("reminder", datetime.date(2025, 10, 29)),  # nothing sent yet: the first step (-3)
        ("suspension", datetime.date(2026, 2, 23)),  # the final notice's grace ends first
        ("", None),  # on hold: the sweep leaves it alone
        ("final_notice", datetime.date(2026, 3, 15)),  # day 14 after day 7
        ("reminder", datetime.date(2026, 3, 5)),
    ]


def test_helpdesk_agents_cannot_open_billing(tenant_a, tenant_b):
    client = tenant_a.client(tenant_a.staff["helpdesk_agent"].user)

    assert client.get("/staff/billing/").status_code == 403


def test_record_payment_from_the_account_page(tenant_a, tenant_b):
    invoice = InvoiceFactory(customer=tenant_a.customer)
    client = _billing(tenant_a)

    page = client.get(f"/staff/billing/customers/{tenant_a.customer.pk}/")
    bad = client.post(
        f"/staff/billing/customers/{tenant_a.customer.pk}/payments/",
        {"amount": "-4", "currency": "EUR", "received_on": "2026-03-09", "method": "card"},
    )
    good = client.post(
        f"/staff/billing/customers/{tenant_a.customer.pk}/payments/",
        {"amount": "150.00", "currency": "EUR", "received_on": "2026-03-09", "method": "card"},
    )

    assert page.status_code == 200 and invoice.number in page.content.decode()
    assert bad.status_code == 400 and "cannot be negative" in bad.content.decode()
    assert good.status_code == 302
    payment = Payment.objects.for_partner(tenant_a.partner).get()
    assert str(payment.unallocated) == "29.00"


def test_suspend_by_hand_needs_a_reason_and_four_eyes_approval(tenant_a, tenant_b):
    from billing.models import BillingProfile

    BillingProfile.objects.create(partner=tenant_a.partner, four_eyes_suspensions=True)
    subscription = SubscriptionFactory(customer=tenant_a.customer)
    billing = _billing(tenant_a)

    billing.post(
        f"/staff/billing/customers/{tenant_a.customer.pk}/suspend/",
        {"subscription": subscription.pk, "note": "Fraud check"},
    )
    suspension = Suspension.objects.for_partner(tenant_a.partner).get()
    own = billing.post(f"/staff/billing/suspensions/{suspension.pk}/approve/")
    suspension.refresh_from_db()
    assert own.status_code == 302 and suspension.state == Suspension.State.AWAITING_APPROVAL

    tenant_a.client(tenant_a.admin.user).post(
        f"/staff/billing/suspensions/{suspension.pk}/approve/"
    )

    suspension.refresh_from_db()
    assert suspension.state == Suspension.State.REQUESTED


def test_tomorrow_page_lists_the_next_sweep(tenant_a, tenant_b):
    PolicyFactory(partner=tenant_a.partner)
    subscription = SubscriptionFactory(customer=tenant_a.customer)
    invoice = InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 2, 1))
    ReminderFactory(invoice=invoice, sent_on=datetime.date(2026, 3, 4))

    response = _billing(tenant_a).get("/staff/billing/tomorrow/")

    assert subscription.offer_name in response.content.decode()


def test_policy_editor_publishes_and_refuses_steps_out_of_order(tenant_a, tenant_b):
    client = _billing(tenant_a)
    data = {
        "reminder_steps": "1, 14, 7",
        "final_notice_day": "7",
        "grace_days": "7",
        "suspend_scope": "all",
        "minimum_overdue_amount": "50",
        "currency": "EUR",
        "reinstate_on_payment": "on",
    }

    refused = client.post("/staff/billing/policy/", data)
    published = client.post(
        "/staff/billing/policy/", data | {"reminder_steps": "1, 7, 14", "final_notice_day": "14"}
    )

    assert refused.status_code == 400 and "increasing order" in refused.content.decode()
    assert 'value="1, 14, 7"' in refused.content.decode()
    assert published.status_code == 302
    assert CollectionPolicy.objects.for_partner(tenant_a.partner).count() == 1


def test_import_page_reports_problems(tenant_a, tenant_b):
    upload = SimpleUploadedFile("bad.csv", b"PartnerId,CustomerId\n1,2\n", content_type="text/csv")

    response = _billing(tenant_a).post("/staff/billing/import/", {"file": upload})

    assert response.status_code == 400
    assert "Missing columns" in response.content.decode()


def test_pdfs_download(tenant_a, tenant_b):
    reminder = ReminderFactory(invoice__customer=tenant_a.customer)
    staff = _billing(tenant_a)
    customer = tenant_a.client(tenant_a.customer_admin.user)

    for response in (
        staff.get(f"/staff/billing/reminders/{reminder.pk}/letter.pdf"),
        staff.get(f"/staff/billing/invoices/{reminder.invoice.pk}/invoice.pdf"),
        customer.get(f"/billing/invoices/{reminder.invoice.pk}/invoice.pdf"),
        customer.get("/billing/statement.pdf"),
    ):
        assert response.status_code == 200
        assert response.content.startswith(b"%PDF")


def test_customer_sees_own_invoices_and_acknowledges_the_policy(tenant_a, tenant_b):
    InvoiceFactory(customer=tenant_a.customer, number="MINE-1")
    InvoiceFactory(customer=tenant_a.other_customers[0], number="OTHER-1")
    PolicyFactory(partner=tenant_a.partner)
    admin = tenant_a.client(tenant_a.customer_admin.user)

    invoices = admin.get("/billing/").content.decode()
    admin.post("/billing/policy/")

    assert "MINE-1" in invoices and "OTHER-1" not in invoices
    assert PolicyAcknowledgement.objects.for_partner(tenant_a.partner).count() == 1
    assert tenant_a.client(tenant_a.customer_user.user).get("/billing/").status_code == 403
    assert tenant_a.client(tenant_a.customer_user.user).get("/billing/policy/").status_code == 200


def test_a_dispute_becomes_a_billing_ticket_and_holds_the_invoice(tenant_a, tenant_b):
    invoice = InvoiceFactory(customer=tenant_a.customer)
    admin = tenant_a.client(tenant_a.customer_admin.user)

    response = admin.post(
        f"/billing/invoices/{invoice.pk}/ask/",
        {"kind": "dispute", "message": "We have 8 seats, not 10."},
    )

    assert response.status_code == 302
    inquiry = BillingInquiry.objects.for_partner(tenant_a.partner).get()
    assert inquiry.ticket.kind == "billing"
    assert InvoiceHold.objects.for_partner(tenant_a.partner).get().ticket == inquiry.ticket
