"""Journey 2: a billing admin reads the overdue dashboard's aging buckets, opens a customer,
approves the sweep's suspension for non-payment (after a confirmation), records the payment
and sees the subscription reinstated. Partner Center is a local stub with its real shapes."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Subscription, Suspension
from billing.services import billing_profile_get
from tests.billing.conftest import run_tasks
from tests.billing.partner_center_stub import PartnerCenterStub
from tests.browser.conftest import screenshot, sign_in_cookie
from tests.browser.data import BrandedPartner
from tests.factories import CustomerFactory
from tests.factories.billing import InvoiceFactory, SubscriptionFactory, SuspensionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def partner_center(settings):
    stub = PartnerCenterStub().start()
    settings.PARTNER_CENTER_BASE_URL = stub.base_url
    settings.PARTNER_CENTER_BACKOFF_SECONDS = 0.01
    settings.PARTNER_CENTER_MAX_WAIT_SECONDS = 0.05
    yield stub
    stub.stop()


def overdue_invoice(customer, days: int, total: str):
    due = datetime.date.today() - datetime.timedelta(days=days)
    amount = Decimal(total)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - datetime.timedelta(days=30),
        due_date=due,
        subtotal=amount,
        tax_total=Decimal("0"),
        total=amount,
    )


def test_billing_admin_suspends_for_non_payment_and_sees_the_reinstatement(
    new_context, portal_url, live_server, partner_center, assert_accessible
):
    contoso = BrandedPartner()
    profile = billing_profile_get(partner=contoso.partner)
    profile.four_eyes_suspensions = True
    profile.save()
    fabrikam = contoso.customer
    overdue_invoice(fabrikam, days=10, total="250.00")
    oldest = overdue_invoice(fabrikam, days=95, total="1200.00")
    overdue_invoice(
        CustomerFactory(partner=contoso.partner, company_name="Northwind B.V."), 45, "80.00"
    )
    subscription = SubscriptionFactory(customer=fabrikam, offer_name="Microsoft 365 E3")
    partner_center.add_subscription(fabrikam.microsoft_tenant_id, subscription.partner_center_id)
    SuspensionFactory(
        subscription=subscription,
        invoice=oldest,
        reason=Suspension.Reason.NON_PAYMENT,
        note="",
        state=Suspension.State.AWAITING_APPROVAL,
        requested_by=None,
    )
    context = new_context()
    sign_in_cookie(context, contoso.partner, contoso.billing_admin.user, live_server.url)
    page = context.new_page()

    # The aging buckets: 250 in 1–30 days, 80 in 31–60, 1200 in 90+.
    page.goto(portal_url(contoso.partner, "/staff/billing/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
    buckets = page.locator("table").first
    expect(buckets.locator("tr", has_text="1–30")).to_contain_text("250.00")
    expect(buckets.locator("tr", has_text="31–60")).to_contain_text("80.00")
    expect(buckets.locator("tr", has_text="90+")).to_contain_text("1200.00")
    screenshot(page, "billing-dashboard")
    assert_accessible(page)

    # Fabrikam's account, then the sweep's proposal, approved after a confirmation.
    page.get_by_role("link", name="Fabrikam B.V.").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fabrikam B.V.")
    expect(page.get_by_text("Awaiting approval")).to_be_visible()
    screenshot(page, "billing-account")
    assert_accessible(page)
    page.get_by_role("link", name="Who is suspended tomorrow").click()
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Done.")).to_be_visible()
    assert questions == ["Suspend this subscription in Partner Center?"]
    run_tasks()
    assert (
        partner_center.status_of(fabrikam.microsoft_tenant_id, subscription.partner_center_id)
        == "suspended"
    )

    page.goto(portal_url(contoso.partner, f"/staff/billing/customers/{fabrikam.pk}/"))
    subscriptions = page.locator("section", has=page.get_by_role("heading", name="Subscriptions"))
    expect(subscriptions).to_contain_text("Suspended")

    # The payment settles everything overdue; the subscription comes back.
    payment = page.locator("form[action$='/payments/']")
    payment.get_by_label("Amount").fill("1450.00")
    payment.get_by_label("Reference").fill("Bank transfer 2026-114")
    payment.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment of EUR 1450.00 recorded.")).to_be_visible()
    run_tasks()
    page.reload()
    expect(page.get_by_role("cell", name="Reinstated", exact=True)).to_be_visible()
    expect(page.get_by_text("Reinstated in Partner Center")).to_be_visible()
    expect(subscriptions).to_contain_text("Active")
    assert (
        partner_center.status_of(fabrikam.microsoft_tenant_id, subscription.partner_center_id)
        == "active"
    )
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
