"""The customer portal home's reads, run by statements compiled once per process: the
partner's support offering and the customer's balance. Each answers the partner's own rows
(row-level security bypassed, so the statement's own scope is what is tested)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Payment
from billing.selectors import customer_balance
from csp_portal.accounts.models import ContactMethod, Holiday, ServiceHours, SupportPlan
from csp_portal.accounts.selectors import support_offering
from csp_portal.accounts.tenancy import partner_scope
from tests.factories.billing import InvoiceFactory

pytestmark = pytest.mark.django_db


def _offer(partner, label: str) -> None:
    SupportPlan.objects.create(partner=partner, name=f"{label} plan", price=Decimal("1.00"))
    ServiceHours.objects.create(
        partner=partner, weekday=2, opens=datetime.time(9), closes=datetime.time(17)
    )
    ServiceHours.objects.create(
        partner=partner, weekday=1, opens=datetime.time(8), closes=datetime.time(12)
    )
    for day in (datetime.date(2026, 3, 9), datetime.date(2026, 3, 10), datetime.date(2026, 12, 25)):
        Holiday.objects.create(partner=partner, date=day, name=f"{label} {day}")
    ContactMethod.objects.create(
        partner=partner, channel=ContactMethod.Channel.EMAIL, value=f"help@{label}.example"
    )


# 23:30 on 9 March in UTC is already 10 March in Amsterdam (the partners' time zone).
@time_machine.travel(datetime.datetime(2026, 3, 9, 23, 30, tzinfo=datetime.UTC), tick=False)
def test_the_support_offering_is_the_partners_own_with_the_holidays_from_its_today(
    tenant_a, tenant_b
):
    tenant_a.partner.time_zone = "Europe/Amsterdam"
    tenant_a.partner.save()
    _offer(tenant_a.partner, "alpha")
    _offer(tenant_b.partner, "bravo")

    with partner_scope(tenant_a.partner, bypass=True):
        offering = support_offering(partner=tenant_a.partner)
        with CaptureQueriesContext(connection) as shown:
            partners = {row.partner.pk for rows in offering.values() for row in rows}

    assert [plan.name for plan in offering["plans"]] == ["alpha plan"]
    assert [hours.weekday for hours in offering["hours"]] == [1, 2]
    assert [holiday.date.isoformat() for holiday in offering["holidays"]] == [
        "2026-03-10",
        "2026-12-25",
    ]
    assert [method.value for method in offering["contact_methods"]] == ["help@alpha.example"]
    assert partners == {tenant_a.partner.pk}
    assert shown.captured_queries == []


def test_the_balance_is_the_customers_own_per_currency(tenant_a, tenant_b):
    InvoiceFactory(customer=tenant_a.customer)  # 121.00 EUR
    InvoiceFactory(customer=tenant_a.customer, currency="USD", total=Decimal("50.00"))
    InvoiceFactory(customer=tenant_a.customer, amount_paid=Decimal("121.00"), status="paid")
    InvoiceFactory(customer=tenant_a.other_customers[0])
    InvoiceFactory(customer=tenant_b.customer)
    for partner, customer in (
        (tenant_a.partner, tenant_a.customer),
        (tenant_b.partner, tenant_b.customer),
    ):
        Payment.objects.create(
            partner=partner,
            customer=customer,
            amount=Decimal("30.00"),
            currency="GBP",
            received_on=datetime.date(2026, 1, 5),
            method=Payment.Method.BANK_TRANSFER,
            unallocated=Decimal("30.00"),
        )

    with partner_scope(tenant_a.partner, bypass=True):
        balance = customer_balance(partner=tenant_a.partner, customer=tenant_a.customer)
        nothing = customer_balance(partner=tenant_a.partner, customer=tenant_b.customer)

    assert balance == [
        {"currency": "EUR", "owed": Decimal("121.00"), "credit": Decimal("0.00")},
        {"currency": "GBP", "owed": Decimal("0.00"), "credit": Decimal("30.00")},
        {"currency": "USD", "owed": Decimal("50.00"), "credit": Decimal("0.00")},
    ]
    assert nothing == []
