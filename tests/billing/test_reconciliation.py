"""Reconciliation import: customers, subscriptions, invoices and lines with the mark-up; the
same file twice is a no-op; bad rows are reported by line and column and nothing is written;
a different layout is refused."""

import csv
import io
import uuid
from decimal import Decimal

import pytest

from billing.models import BillingProfile, Invoice, InvoiceLine, ReconciliationImport, Subscription
from billing.reconciliation import COLUMNS, ImportRejected, reconciliation_import
from csp_portal.accounts.models import Customer

pytestmark = pytest.mark.django_db

TENANT_1 = "c139c4bf-2e8b-4ab5-8bed-d9f50dcca7a2"
TENANT_2 = "835a59a7-3172-47b5-bdef-d9cc65f4d0e4"


def _row(**overrides):
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        {
            "PartnerId": "934f3416-bc2f-47f3-b492-77e517d4e572",
            "CustomerId": TENANT_1,
            "CustomerName": "Reduce Seats Validation",
            "CustomerDomainName": "testcustomer.onmicrosoft.com",
            "CustomerCountry": "US",
            "InvoiceNumber": "G000773581",
            "ResellerMpnId": "0",
            "OrderDate": "5/20/2021",
            "ProductName": "Power BI Premium Per User",
            "SkuName": "Power BI Premium Per User",
            "ChargeType": "New",
            "UnitPrice": "16",
            "EffectiveUnitPrice": "14.4",
            "Quantity": "50",
            "BillableQuantity": "50",
            "Subtotal": "720",
            "TaxTotal": "73",
            "Total": "793",
            "Currency": "USD",
            "PricingCurrency": "USD",
            "PCToBCExchangeRate": "1",
            "PriceAdjustmentDescription": '["15.0% Partner earned credit for services managed"]',
            "ProductQualifiers": '["Add-On"]',
            "SubscriptionId": "9d7d1f3d-c8de-461c-db6d-91debd5129f0",
            "ChargeStartDate": "5/20/2021",
            "ChargeEndDate": "6/19/2021",
            "SubscriptionStartDate": "5/20/2021",
            "SubscriptionEndDate": "5/19/2022",
            "BillingFrequency": "Monthly",
        }
    )
    row.update(overrides)
    return row


def _csv(rows, columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _counts(partner):
    return tuple(
        model.objects.for_partner(partner).count()
        for model in (Customer, Subscription, Invoice, InvoiceLine, ReconciliationImport)
    )


def test_import_creates_customers_subscriptions_invoices_with_markup(tenant_a, tenant_b):
    BillingProfile.objects.create(partner=tenant_a.partner, markup_percent=Decimal("10"))
    content = _csv(
        [
            _row(),
            _row(
                SubscriptionId=str(uuid.uuid4()),
                Subtotal="-20",
                TaxTotal="-2",
                Total="-22",
                ChargeType="removeQuantity",
            ),
            _row(
                CustomerId=TENANT_2, CustomerName="Promotions 01", SubscriptionId=str(uuid.uuid4())
            ),
        ]
    )
    before_b = _counts(tenant_b.partner)

    result = reconciliation_import(partner=tenant_a.partner, file_name="recon.csv", content=content)

    assert not result.duplicate
    invoice = Invoice.objects.for_partner(tenant_a.partner).get(
        number=f"G000773581-{TENANT_1[:8].upper()}"
    )
    assert invoice.currency == "USD"
    assert invoice.subtotal == Decimal("770.00")  # (720 - 20) * 1.10
    assert invoice.tax_total == Decimal("78.10")
    assert invoice.total == Decimal("848.10")
    assert invoice.lines.count() == 2
    assert (
        Customer.objects.for_partner(tenant_a.partner).filter(microsoft_tenant_id=TENANT_2).exists()
    )
    assert Subscription.objects.for_partner(tenant_a.partner).count() == 3
    assert _counts(tenant_b.partner) == before_b


def test_the_same_file_twice_changes_nothing(tenant_a, tenant_b):
    content = _csv([_row()])
    reconciliation_import(partner=tenant_a.partner, file_name="recon.csv", content=content)
    after_first = _counts(tenant_a.partner)

    again = reconciliation_import(partner=tenant_a.partner, file_name="copy.csv", content=content)

    assert again.duplicate
    assert _counts(tenant_a.partner) == after_first


def test_a_second_file_updates_the_invoice_in_place(tenant_a, tenant_b):
    reconciliation_import(partner=tenant_a.partner, file_name="one.csv", content=_csv([_row()]))

    reconciliation_import(
        partner=tenant_a.partner,
        file_name="two.csv",
        content=_csv([_row(Subtotal="800", TaxTotal="80")]),
    )

    invoice = Invoice.objects.for_partner(tenant_a.partner).get()
    assert invoice.total == Decimal("880.00")
    assert invoice.lines.count() == 1


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(tenant_a, tenant_b):
    content = _csv(
        [
            _row(),
            _row(Subtotal="twelve"),
            _row(Currency="XYZ"),
            _row(CustomerId="not-a-guid", ChargeStartDate="31/31/2021"),
        ]
    )
    before = _counts(tenant_a.partner)

    with pytest.raises(ImportRejected) as rejected:
        reconciliation_import(partner=tenant_a.partner, file_name="bad.csv", content=content)

    problems = [(line, column) for line, column, _message in rejected.value.problems]
    assert problems == [(3, "Subtotal"), (4, "Currency"), (5, "CustomerId"), (5, "ChargeStartDate")]
    assert "XYZ" in rejected.value.messages[1]
    assert _counts(tenant_a.partner) == before


def test_missing_columns_are_named(tenant_a, tenant_b):
    columns = [c for c in COLUMNS if c not in ("Subtotal", "Currency")]

    with pytest.raises(ImportRejected) as rejected:
        reconciliation_import(
            partner=tenant_a.partner, file_name="x.csv", content=_csv([_row()], columns)
        )

    assert "Missing columns: Subtotal, Currency." in rejected.value.messages[0]
    assert _counts(tenant_a.partner)[2:] == (0, 0, 0)


def test_a_different_layout_is_refused(tenant_a, tenant_b):
    columns = [COLUMNS[1], COLUMNS[0], *COLUMNS[2:]]

    with pytest.raises(ImportRejected) as rejected:
        reconciliation_import(
            partner=tenant_a.partner, file_name="x.csv", content=_csv([_row()], columns)
        )

    assert "column 1 is CustomerId, expected PartnerId" in rejected.value.messages[0]
