"""Import of Partner Center invoice reconciliation files (new commerce, 46 columns).

The whole file is parsed and checked first; any malformed row is reported with its line
number and column, and then nothing of the file is applied. A file imported before (same
SHA-256 for the partner) is a no-op. Customers are matched by Microsoft tenant ID,
subscriptions by Partner Center subscription ID; each (Partner Center invoice, customer)
becomes one invoice of the partner to its customer, priced with the partner's mark-up."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal.accounts.models import Customer

from .currency import parse_amount, round_money, validate_currency
from .models import (
    BillingEvent,
    Invoice,
    InvoiceLine,
    ReconciliationImport,
    Subscription,
)
from .services import billing_profile_get, credit_allocate, event_record

COLUMNS = [
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry",
    "InvoiceNumber", "MpnId", "ResellerMpnId", "OrderId", "OrderDate", "ProductId", "SkuId",
    "AvailabilityId", "SkuName", "ProductName", "ChargeType", "UnitPrice", "Quantity",
    "Subtotal", "TaxTotal", "Total", "Currency", "PriceAdjustmentDescription", "PublisherName",
    "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate",
    "ChargeEndDate", "TermAndBillingCycle", "EffectiveUnitPrice", "UnitType", "AlternateId",
    "BillableQuantity", "BillingFrequency", "PricingCurrency", "PCToBCExchangeRate",
    "PCToBCExchangeRateDate", "MeterDescription", "ReservationOrderId", "CreditReasonCode",
    "SubscriptionStartDate", "SubscriptionEndDate", "ReferenceId", "ProductQualifiers",
    "PromotionId",
]  # fmt: skip
CHARGE_TYPES = {"new", "addquantity", "removequantity", "cancel", "convert", "renew", "cycle"}
MAX_REPORTED = 50


class ImportRejected(ValidationError):
    """The file was refused; `problems` lists (line, column, message)."""

    def __init__(self, problems: list[tuple[int | None, str, str]]):
        self.problems = problems
        super().__init__(
            [
                f"{_('Line')} {line}, {column}: {message}" if line else f"{column}: {message}"
                for line, column, message in problems
            ]
        )


@dataclass
class Row:
    line: int
    customer_id: uuid.UUID
    customer_name: str
    domain: str
    country: str
    reseller_mpn_id: str
    invoice_number: str
    product_name: str
    sku_name: str
    charge_type: str
    quantity: Decimal
    subtotal: Decimal
    tax: Decimal
    currency: str
    subscription_id: str
    charge_start: date | None
    charge_end: date | None
    term_end: date | None
    billing_frequency: str
    unit_price: Decimal


@dataclass
class Result:
    record: ReconciliationImport
    duplicate: bool = False
    invoices: list[Invoice] = field(default_factory=list)


def _date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for pattern in ("%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(_("%(value)s is not a date (M/D/YYYY).") % {"value": value})


def _family(product: str) -> str:
    name = product.lower()
    if "azure" in name:
        return Subscription.ProductFamily.AZURE
    if "dynamics" in name:
        return Subscription.ProductFamily.DYNAMICS_365
    if any(
        word in name for word in ("microsoft 365", "office 365", "exchange", "teams", "power bi")
    ):
        return Subscription.ProductFamily.MICROSOFT_365
    return Subscription.ProductFamily.OTHER


def parse(content: bytes) -> list[Row]:
    """Every row of the file, or ImportRejected with every problem found."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([(None, _("File"), _("The file is not UTF-8 text."))]) from None
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ImportRejected(
            [(1, _("Header"), _("Missing columns: %(names)s.") % {"names": ", ".join(missing)})]
        )
    if header != COLUMNS:
        for position, (found, expected) in enumerate(zip(header, COLUMNS, strict=False), start=1):
            if found != expected:
                raise ImportRejected(
                    [
                        (
                            1,
                            _("Header"),
                            _(
                                "This is not the reconciliation layout: column %(position)s is "
                                "%(found)s, expected %(expected)s."
                            )
                            % {"position": position, "found": found, "expected": expected},
                        )
                    ]
                )
        raise ImportRejected(
            [
                (
                    1,
                    _("Header"),
                    _("Unexpected extra columns after %(last)s.") % {"last": COLUMNS[-1]},
                )
            ]
        )
    rows, problems = [], []
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(COLUMNS):
            problems.append(
                (
                    line,
                    _("Row"),
                    _("%(count)s cells, expected %(expected)s.")
                    % {"count": len(values), "expected": len(COLUMNS)},
                )
            )
            continue
        cell = dict(zip(COLUMNS, (value.strip() for value in values), strict=True))
        errors_before = len(problems)

        def check(column, convert, cell=cell, line=line):
            try:
                return convert(cell[column])
            except (ValidationError, ValueError) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                problems.append((line, column, message))
                return None

        def required(value):
            if not value:
                raise ValueError(_("is empty."))
            return value

        def json_list(value):
            if value and not isinstance(json.loads(value), list):
                raise ValueError(_("is not a JSON list."))
            return value

        def charge(value):
            if value.lower() not in CHARGE_TYPES:
                raise ValueError(_("%(value)s is not a charge type.") % {"value": value})
            return value

        customer_id = check("CustomerId", lambda v: uuid.UUID(required(v)))
        number = check("InvoiceNumber", required)
        name = check("CustomerName", required)
        quantity = check("BillableQuantity", lambda v: parse_amount(v or "0", allow_zero=True))
        subtotal = check(
            "Subtotal", lambda v: parse_amount(v, allow_negative=True, allow_zero=True)
        )
        tax = check(
            "TaxTotal", lambda v: parse_amount(v or "0", allow_negative=True, allow_zero=True)
        )
        check("Total", lambda v: parse_amount(v, allow_negative=True, allow_zero=True))
        unit_price = check(
            "EffectiveUnitPrice",
            lambda v: parse_amount(v or "0", allow_negative=True, allow_zero=True),
        )
        currency = check("Currency", validate_currency)
        check("PricingCurrency", lambda v: validate_currency(v) if v else v)
        check("PCToBCExchangeRate", lambda v: parse_amount(v or "1"))
        charge_type = check("ChargeType", charge)
        start = check("ChargeStartDate", _date)
        end = check("ChargeEndDate", _date)
        term_end = check("SubscriptionEndDate", _date)
        check("OrderDate", _date)
        check("PriceAdjustmentDescription", json_list)
        check("ProductQualifiers", json_list)
        product = check("ProductName", required)
        if len(problems) > errors_before:
            continue
        rows.append(
            Row(
                line=line,
                customer_id=customer_id,
                customer_name=name,
                domain=cell["CustomerDomainName"],
                country=(cell["CustomerCountry"] or "NL")[:2].upper(),
                reseller_mpn_id="" if cell["ResellerMpnId"] in ("", "0") else cell["ResellerMpnId"],
                invoice_number=number,
                product_name=product,
                sku_name=cell["SkuName"],
                charge_type=charge_type,
                quantity=quantity,
                subtotal=subtotal,
                tax=tax,
                currency=currency,
                subscription_id=cell["SubscriptionId"],
                charge_start=start,
                charge_end=end,
                term_end=term_end,
                billing_frequency=cell["BillingFrequency"],
                unit_price=unit_price,
            )
        )
    if problems:
        raise ImportRejected(problems[:MAX_REPORTED])
    if not rows:
        raise ImportRejected([(None, _("File"), _("The file has no rows."))])
    return rows


@transaction.atomic
def reconciliation_import(*, partner, file_name: str, content: bytes, acting_user=None) -> Result:
    digest = hashlib.sha256(content).hexdigest()
    existing = ReconciliationImport.objects.for_partner(partner).filter(file_hash=digest).first()
    if existing is not None:
        return Result(record=existing, duplicate=True)
    rows = parse(content)
    profile = billing_profile_get(partner=partner)
    factor = Decimal(1) + Decimal(profile.markup_percent) / 100
    today = timezone.localdate(timezone=partner.tz)

    tenant_ids = {row.customer_id for row in rows}
    customers = {
        c.microsoft_tenant_id: c
        for c in Customer.objects.for_partner(partner).filter(microsoft_tenant_id__in=tenant_ids)
    }
    created_customers = 0
    for row in rows:
        customer = customers.get(row.customer_id)
        if customer is None:
            customer = customers[row.customer_id] = Customer.objects.create(
                partner=partner,
                company_name=row.customer_name[:200],
                primary_domain=row.domain[:253],
                country=row.country,
                microsoft_tenant_id=row.customer_id,
                reseller_mpn_id=row.reseller_mpn_id[:20],
                language=partner.default_language,
            )
            created_customers += 1
        elif customer.company_name != row.customer_name[:200]:
            customer.company_name = row.customer_name[:200]
            customer.save(update_fields=["company_name"])

    subscriptions = {
        (s.customer_id, s.partner_center_id.lower()): s
        for s in Subscription.objects.for_partner(partner).filter(
            customer__in=list(customers.values())
        )
    }
    groups: dict[tuple[str, uuid.UUID], list[Row]] = {}
    for row in rows:
        customer = customers[row.customer_id]
        subscription = None
        if row.subscription_id:
            key = (customer.pk, row.subscription_id.lower())
            subscription = subscriptions.get(key)
            values = {
                "offer_name": row.product_name[:200],
                "sku_name": row.sku_name[:200],
                "product_family": _family(row.product_name),
                "quantity": max(int(row.quantity), 0),
                "billing_cycle": row.billing_frequency[:40],
                "term_end_date": row.term_end,
            }
            if row.charge_type.lower() == "cancel":
                values["status"] = Subscription.Status.CANCELLED
            if subscription is None:
                subscription = subscriptions[key] = Subscription.objects.create(
                    partner=partner,
                    customer=customer,
                    partner_center_id=row.subscription_id,
                    **values,
                )
            else:
                for name, value in values.items():
                    setattr(subscription, name, value)
                subscription.save()
        row.subscription = subscription
        groups.setdefault((row.invoice_number, row.customer_id), []).append(row)

    invoices = []
    for (pc_number, tenant_id), group in groups.items():
        customer = customers[tenant_id]
        currency = group[0].currency
        if any(row.currency != currency for row in group):
            raise ImportRejected([(group[-1].line, "Currency", _("One invoice mixes currencies."))])
        number = f"{pc_number}-{str(tenant_id)[:8].upper()}"
        invoice = (
            Invoice.objects.for_partner(partner).select_for_update().filter(number=number).first()
        )
        if invoice is not None and invoice.status == Invoice.Status.VOID:
            continue
        if invoice is None:
            invoice = Invoice(
                partner=partner,
                customer=customer,
                number=number,
                currency=currency,
                issue_date=today,
                due_date=today + timedelta(days=profile.payment_terms_days),
                partner_center_invoice=pc_number,
            )
        lines = []
        for row in group:
            amount = round_money(row.subtotal * factor)
            lines.append(
                InvoiceLine(
                    partner=partner,
                    subscription=row.subscription,
                    description=(row.sku_name or row.product_name)[:300],
                    quantity=row.quantity,
                    unit_price=(row.unit_price * factor).quantize(Decimal("0.0001")),
                    amount=amount,
                    currency=currency,
                    charge_type=row.charge_type[:20],
                    period_start=row.charge_start,
                    period_end=row.charge_end,
                )
            )
        invoice.subtotal = sum((line.amount for line in lines), Decimal("0.00"))
        invoice.tax_total = round_money(sum((row.tax for row in group), Decimal("0")) * factor)
        invoice.total = invoice.subtotal + invoice.tax_total
        if invoice.amount_paid > invoice.total:
            raise ImportRejected(
                [
                    (
                        group[0].line,
                        "InvoiceNumber",
                        _("Invoice %(number)s is already paid beyond the new total.")
                        % {"number": number},
                    )
                ]
            )
        invoice.status = (
            Invoice.Status.PAID
            if invoice.total <= invoice.amount_paid and invoice.total > 0
            else Invoice.Status.PARTIALLY_PAID
            if invoice.amount_paid > 0
            else Invoice.Status.OPEN
        )
        invoice.save()
        InvoiceLine.objects.for_partner(partner).filter(invoice=invoice).delete()
        for line in lines:
            line.invoice = invoice
        InvoiceLine.objects.bulk_create(lines)
        invoices.append(invoice)

    try:
        with transaction.atomic():
            record = ReconciliationImport.objects.create(
                partner=partner,
                file_name=file_name[:200],
                file_hash=digest,
                row_count=len(rows),
                invoice_count=len(invoices),
                customer_count=len(customers),
                created_customers=created_customers,
                imported_by=acting_user,
            )
    except IntegrityError:
        # The same file, imported at the same moment by someone else: theirs counts.
        transaction.set_rollback(True)
        raise ImportRejected(
            [(None, _("File"), _("This file is being imported already."))]
        ) from None
    for customer in {invoice.customer for invoice in invoices}:
        for currency in {i.currency for i in invoices if i.customer_id == customer.pk}:
            credit_allocate(partner=partner, customer=customer, currency=currency)
    event_record(
        partner_id=partner.pk,
        kind=BillingEvent.Kind.IMPORTED,
        actor=acting_user,
        file=record.file_name,
        rows=len(rows),
        invoices=len(invoices),
    )
    return Result(record=record, invoices=invoices)
