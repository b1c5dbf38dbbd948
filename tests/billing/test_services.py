"""Payments (oldest first, surplus kept as credit, bad amounts and currencies refused) and
policy publishing (steps in order, final notice last)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import CollectionPolicy, Invoice, Payment, PaymentAllocation
from tests.factories.billing import InvoiceFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 1)


def _pay(tenant, amount, currency="EUR"):
    return services.payment_record(
        partner=tenant.partner,
        customer=tenant.customer,
        amount=amount,
        currency=currency,
        received_on=TODAY,
        method="bank_transfer",
        reference="NL12 ref",
    )


def _invoices(tenant, count):
    return [
        InvoiceFactory(customer=tenant.customer, due_date=datetime.date(2026, 1, day + 1))
        for day in range(count)
    ]


def test_payment_settles_oldest_first_and_keeps_the_surplus_as_credit(tenant_a, tenant_b):
    newest, oldest = _invoices(tenant_a, 2)[::-1]
    _invoices(tenant_b, 3)

    payment = _pay(tenant_a, "300.00")

    oldest.refresh_from_db()
    newest.refresh_from_db()
    payment.refresh_from_db()
    assert oldest.status == newest.status == Invoice.Status.PAID
    assert payment.unallocated == Decimal("58.00")
    assert PaymentAllocation.objects.for_partner(tenant_a.partner).count() == 2
    assert Invoice.objects.for_partner(tenant_b.partner).filter(status="open").count() == 3

    later = InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 4, 1))
    _pay(tenant_a, "10.00")

    later.refresh_from_db()
    assert later.amount_paid == Decimal("68.00")
    assert later.status == Invoice.Status.PARTIALLY_PAID


def test_part_payment_leaves_the_invoice_partially_paid(tenant_a, tenant_b):
    (invoice,) = _invoices(tenant_a, 1)

    _pay(tenant_a, "21.00")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
    assert invoice.balance == Decimal("100.00")


@pytest.mark.parametrize(
    ("amount", "currency", "field", "text"),
    [
        ("-5", "EUR", "amount", "cannot be negative"),
        ("abc", "EUR", "amount", "is not an amount"),
        ("0", "EUR", "amount", "more than zero"),
        ("1.234", "EUR", "amount", "two decimals"),
        ("10", "EUX", "currency", "Unknown currency EUX"),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_written(
    tenant_a, tenant_b, amount, currency, field, text
):
    _invoices(tenant_a, 1)

    with pytest.raises(ValidationError) as error:
        _pay(tenant_a, amount, currency)

    assert text in error.value.message_dict[field][0]
    assert Payment.objects.for_partner(tenant_a.partner).count() == 0


def _publish(tenant, **kwargs):
    values = {
        "reminder_steps": "-3, 1, 7, 14",
        "final_notice_day": 14,
        "grace_days": 7,
        "suspend_scope": "all",
        "minimum_overdue_amount": "50",
        "currency": "EUR",
        "reinstate_on_payment": True,
    }
    values.update(kwargs)
    return services.collection_policy_publish(partner=tenant.partner, **values)


def test_publishing_makes_a_new_version(tenant_a, tenant_b):
    _publish(tenant_b)

    first = _publish(tenant_a)
    second = _publish(tenant_a, grace_days=10)

    assert (first.version, second.version) == (1, 2)
    assert second.reminder_steps == [-3, 1, 7, 14]
    assert CollectionPolicy.objects.for_partner(tenant_b.partner).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        (
            {"reminder_steps": "1, 7, 3, 14"},
            "reminder_steps",
            "step 3 (3 days) does not come after step 2",
        ),
        ({"final_notice_day": 7}, "final_notice_day", "final notice must be the last step"),
        ({"reminder_steps": "1, x"}, "reminder_steps", "Step 2 (x) is not a whole number"),
        ({"grace_days": 0}, "grace_days", "at least one day"),
        ({"minimum_overdue_amount": "-1"}, "minimum_overdue_amount", "cannot be negative"),
        ({"currency": "ZZZ"}, "currency", "Unknown currency"),
    ],
)
def test_a_bad_policy_is_refused_with_a_clear_message(tenant_a, tenant_b, kwargs, field, text):
    with pytest.raises(ValidationError) as error:
        _publish(tenant_a, **kwargs)

    assert text in error.value.message_dict[field][0]
    assert CollectionPolicy.objects.for_partner(tenant_a.partner).count() == 0
