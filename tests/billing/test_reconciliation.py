"""Reconciliation import: customers, subscriptions, invoices and lines with the mark-up; the
same file twice is a no-op; bad rows are reported by line and column and nothing is written;
a different layout is refused. The file is streamed and applied in batches: the queries grow
with the batches, not the lines, and an invoice's lines may be spread over the file."""

import csv
import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import reconciliation
from billing.models import (
    BillingProfile,
    Invoice,
    InvoiceLine,
    Payment,
    ReconciliationImport,
    Subscription,
)
from billing.reconciliation import COLUMNS, ImportRejected, reconciliation_import
from csp_portal.accounts.models import Customer
from tests.factories import CustomerFactory
from tests.factories.billing import SubscriptionFactory

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


# -- streamed and batched ----------------------------------------------------------------------

# Statements one batch of lines may cost: the active and the cancelled subscriptions upserted,
# the lines inserted.
QUERIES_PER_BATCH = 3


def _spread(count: int):
    """`count` lines over two customers and two Partner Center invoices (four invoice groups,
    interleaved), each line its own subscription."""
    return [
        _row(
            CustomerId=(TENANT_1, TENANT_2)[line % 2],
            InvoiceNumber=f"G00000000{line // 2 % 2}",
            SubscriptionId=str(uuid.UUID(int=line + 1)),
            Subtotal="10",
            TaxTotal="2",
        )
        for line in range(count)
    ]


def _lines(partner, number):
    return sorted(
        InvoiceLine.objects.for_partner(partner)
        .filter(invoice__number=number)
        .values_list("amount", flat=True)
    )


def test_queries_grow_with_the_batches_not_the_lines(tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(reconciliation, "BATCH_SIZE", 50)
    small, large = _csv(_spread(100)), _csv(_spread(1_000))  # 2 and 20 batches

    with CaptureQueriesContext(connection) as small_queries:
        reconciliation_import(partner=tenant_a.partner, file_name="small.csv", content=small)
    with CaptureQueriesContext(connection) as large_queries:
        reconciliation_import(partner=tenant_b.partner, file_name="large.csv", content=large)

    assert len(large_queries) <= len(small_queries) + (20 - 2) * QUERIES_PER_BATCH
    assert len(large_queries) < 5 * len(small_queries)  # ten times the lines
    assert InvoiceLine.objects.for_partner(tenant_b.partner).count() == 1_000
    assert Subscription.objects.for_partner(tenant_b.partner).count() == 1_000
    assert Invoice.objects.for_partner(tenant_b.partner).count() == 4
    assert InvoiceLine.objects.for_partner(tenant_a.partner).count() == 100


def test_an_error_on_the_last_line_of_a_large_file_applies_nothing(tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(reconciliation, "BATCH_SIZE", 50)
    content = _csv([*_spread(500), _row(Currency="XYZ")])
    before = _counts(tenant_a.partner)

    with pytest.raises(ImportRejected) as rejected:
        reconciliation_import(partner=tenant_a.partner, file_name="late.csv", content=content)

    assert [(line, column) for line, column, _m in rejected.value.problems] == [(502, "Currency")]
    assert _counts(tenant_a.partner) == before


def test_interleaved_invoice_groups_become_one_invoice_each(tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(reconciliation, "BATCH_SIZE", 3)
    BillingProfile.objects.create(partner=tenant_a.partner, markup_percent=Decimal("10"))
    content = _csv(
        [
            _row(InvoiceNumber="G1", Subtotal="100", TaxTotal="10"),
            _row(InvoiceNumber="G2", Subtotal="200", TaxTotal="20"),
            _row(InvoiceNumber="G1", CustomerId=TENANT_2, Subtotal="300", TaxTotal="30"),
            _row(InvoiceNumber="G2", Subtotal="400", TaxTotal="40"),
            _row(InvoiceNumber="G1", Subtotal="500", TaxTotal="50"),
            _row(InvoiceNumber="G1", CustomerId=TENANT_2, Subtotal="600", TaxTotal="60"),
            _row(InvoiceNumber="G1", Subtotal="-50", TaxTotal="-5"),
        ]
    )

    result = reconciliation_import(partner=tenant_a.partner, file_name="mixed.csv", content=content)

    invoices = {
        invoice.number: invoice for invoice in Invoice.objects.for_partner(tenant_a.partner)
    }
    g1_tenant_1, g2_tenant_1 = f"G1-{TENANT_1[:8].upper()}", f"G2-{TENANT_1[:8].upper()}"
    g1_tenant_2 = f"G1-{TENANT_2[:8].upper()}"
    assert sorted(invoices) == sorted([g1_tenant_1, g2_tenant_1, g1_tenant_2])
    assert len(result.invoice_ids) == 3
    assert result.record.row_count == 7
    assert _lines(tenant_a.partner, g1_tenant_1) == [
        Decimal("-55.00"),
        Decimal("110.00"),
        Decimal("550.00"),
    ]
    assert invoices[g1_tenant_1].subtotal == Decimal("605.00")
    assert invoices[g1_tenant_1].tax_total == Decimal("60.50")
    assert invoices[g2_tenant_1].total == Decimal("726.00")  # (600 + 60) * 1.10
    assert invoices[g1_tenant_2].total == Decimal("1089.00")
    assert invoices[g1_tenant_2].customer.microsoft_tenant_id == uuid.UUID(TENANT_2)
    assert InvoiceLine.objects.for_partner(tenant_b.partner).count() == 0


def test_a_reimport_replaces_the_lines_of_its_invoices_only(tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(reconciliation, "BATCH_SIZE", 2)
    first = [
        _row(InvoiceNumber="G1", Subtotal="100", TaxTotal="10"),
        _row(InvoiceNumber="G2", Subtotal="5", TaxTotal="1"),
        _row(InvoiceNumber="G1", Subtotal="200", TaxTotal="20"),
        _row(InvoiceNumber="G1", Subtotal="300", TaxTotal="30"),
    ]
    reconciliation_import(partner=tenant_a.partner, file_name="one.csv", content=_csv(first))
    invoice_ids = set(Invoice.objects.for_partner(tenant_a.partner).values_list("pk", flat=True))

    reconciliation_import(
        partner=tenant_a.partner,
        file_name="two.csv",
        content=_csv(
            [
                _row(InvoiceNumber="G1", Subtotal="150", TaxTotal="15"),
                _row(InvoiceNumber="G3", Subtotal="7", TaxTotal="0"),
                _row(InvoiceNumber="G3", Subtotal="8", TaxTotal="0"),
                _row(InvoiceNumber="G1", Subtotal="250", TaxTotal="25"),
            ]
        ),
    )

    g1 = Invoice.objects.for_partner(tenant_a.partner).get(number=f"G1-{TENANT_1[:8].upper()}")
    assert g1.pk in invoice_ids
    assert _lines(tenant_a.partner, g1.number) == [Decimal("150.00"), Decimal("250.00")]
    assert g1.total == Decimal("440.00")
    assert _lines(tenant_a.partner, f"G2-{TENANT_1[:8].upper()}") == [Decimal("5.00")]
    assert _lines(tenant_a.partner, f"G3-{TENANT_1[:8].upper()}") == [
        Decimal("7.00"),
        Decimal("8.00"),
    ]
    assert Invoice.objects.for_partner(tenant_a.partner).count() == 3
    assert Subscription.objects.for_partner(tenant_a.partner).count() == 1


def test_a_void_invoice_is_left_alone(tenant_a, tenant_b):
    reconciliation_import(partner=tenant_a.partner, file_name="one.csv", content=_csv([_row()]))
    Invoice.objects.for_partner(tenant_a.partner).update(status=Invoice.Status.VOID)

    result = reconciliation_import(
        partner=tenant_a.partner,
        file_name="two.csv",
        content=_csv([_row(Subtotal="800"), _row(InvoiceNumber="G2")]),
    )

    void = Invoice.objects.for_partner(tenant_a.partner).get(status=Invoice.Status.VOID)
    assert void.total == Decimal("793.00")
    assert void.lines.get().amount == Decimal("720.00")
    assert result.record.invoice_count == 1
    assert Invoice.objects.for_partner(tenant_a.partner).count() == 2


def test_an_invoice_paid_beyond_its_new_total_refuses_the_whole_file(tenant_a, tenant_b):
    reconciliation_import(partner=tenant_a.partner, file_name="one.csv", content=_csv([_row()]))
    Invoice.objects.for_partner(tenant_a.partner).update(
        amount_paid=Decimal("793.00"), status=Invoice.Status.PAID
    )
    before = _counts(tenant_a.partner)

    with pytest.raises(ImportRejected) as rejected:
        reconciliation_import(
            partner=tenant_a.partner,
            file_name="two.csv",
            content=_csv([_row(InvoiceNumber="G2"), _row(Subtotal="100", TaxTotal="0")]),
        )

    assert [(line, column) for line, column, _m in rejected.value.problems] == [
        (3, "InvoiceNumber")
    ]
    assert _counts(tenant_a.partner) == before
    assert Invoice.objects.for_partner(tenant_a.partner).get().total == Decimal("793.00")


def test_one_invoice_in_two_currencies_is_refused_at_the_line_that_differs(tenant_a, tenant_b):
    content = _csv([_row(), _row(InvoiceNumber="G2"), _row(Currency="EUR"), _row()])

    with pytest.raises(ImportRejected) as rejected:
        reconciliation_import(partner=tenant_a.partner, file_name="fx.csv", content=content)

    assert [(line, column) for line, column, _m in rejected.value.problems] == [(4, "Currency")]
    assert _counts(tenant_a.partner)[2:] == (0, 0, 0)


def test_an_upload_is_read_where_it_is_and_left_open(tenant_a, tenant_b):
    in_memory = SimpleUploadedFile("one.csv", _csv([_row(), _row(CustomerId=TENANT_2)]))
    updated = _csv([_row(Subtotal="800", TaxTotal="80")])
    on_disk = TemporaryUploadedFile("two.csv", "text/csv", len(updated), None)
    on_disk.write(updated)

    first = reconciliation_import(partner=tenant_a.partner, file_name="one.csv", content=in_memory)
    second = reconciliation_import(partner=tenant_a.partner, file_name="two.csv", content=on_disk)

    assert first.record.row_count == 2
    assert second.record.row_count == 1
    assert not second.duplicate
    assert Invoice.objects.for_partner(tenant_a.partner).get(
        number=f"G000773581-{TENANT_1[:8].upper()}"
    ).total == Decimal("880.00")
    assert not in_memory.closed
    assert not on_disk.closed
    on_disk.close()


def test_subscriptions_match_in_any_case_and_a_cancellation_sticks(tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(reconciliation, "BATCH_SIZE", 1)
    customer = CustomerFactory(partner=tenant_a.partner, microsoft_tenant_id=uuid.UUID(TENANT_1))
    stored = SubscriptionFactory(
        customer=customer, partner_center_id="9D7D1F3D-C8DE-461C-DB6D-91DEBD5129F0"
    )
    content = _csv(
        [
            _row(ChargeType="cancel", BillableQuantity="0"),
            _row(SubscriptionId="9d7d1f3d-c8de-461c-db6d-91debd5129f0", BillableQuantity="7"),
            _row(SubscriptionId="5F2A7E3C-0B9D-4C59-8C36-2F0A1B3C4D5E"),
            _row(SubscriptionId="5f2a7e3c-0b9d-4c59-8c36-2f0a1b3c4d5e"),
        ]
    )

    reconciliation_import(partner=tenant_a.partner, file_name="c.csv", content=content)

    stored.refresh_from_db()
    assert stored.status == Subscription.Status.CANCELLED
    assert stored.quantity == 7
    assert sorted(
        Subscription.objects.for_partner(tenant_a.partner).values_list(
            "partner_center_id", flat=True
        )
    ) == ["5f2a7e3c-0b9d-4c59-8c36-2f0a1b3c4d5e", "9D7D1F3D-C8DE-461C-DB6D-91DEBD5129F0"]
    assert (
        InvoiceLine.objects.for_partner(tenant_a.partner).filter(subscription=stored).count() == 2
    )


def test_credit_waiting_in_the_invoice_currency_is_allocated(tenant_a, tenant_b):
    customer = CustomerFactory(partner=tenant_a.partner, microsoft_tenant_id=uuid.UUID(TENANT_1))
    Payment.objects.create(
        partner=tenant_a.partner,
        customer=customer,
        amount=Decimal("100.00"),
        currency="USD",
        received_on="2026-01-01",
        method=Payment.Method.BANK_TRANSFER,
        unallocated=Decimal("100.00"),
    )

    reconciliation_import(partner=tenant_a.partner, file_name="c.csv", content=_csv([_row()]))

    invoice = Invoice.objects.for_partner(tenant_a.partner).get()
    assert invoice.amount_paid == Decimal("100.00")
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
