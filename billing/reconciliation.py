"""Import of Partner Center invoice reconciliation files (new commerce, 46 columns).

The file is streamed, never held whole in memory, and read in passes:

1. its SHA-256: a file imported before by the partner is a no-op;
2. every row is checked, and only small aggregates are kept (per customer, per invoice);
   any malformed row is reported with its line number and column, and then nothing of the
   file is applied;
3. the file is read again and applied in batches of `BATCH_SIZE` lines: a few statements
   per batch (subscriptions upserted, lines inserted), whatever the batch holds.

Customers are matched by Microsoft tenant ID, subscriptions by Partner Center subscription ID
(in any letter case; new ones are stored in lower case); each (Partner Center invoice, customer) becomes one invoice of the
partner to its customer, priced with the partner's mark-up. An invoice's lines may be spread
over the file: its header and totals come from pass 2, its lines are inserted as pass 3
meets them. The whole import is one transaction."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal.accounts.models import Customer

from .currency import parse_amount, round_money, validate_currency
from .models import (
    BillingEvent,
    Invoice,
    InvoiceLine,
    Payment,
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
# Lines applied per batch, and invoices or customers per statement.
BATCH_SIZE = 2_000
# The invoice number is the Partner Center number, "-" and the tenant ID's first 8 characters.
TENANT_SUFFIX = 9
PC_NUMBER_MAX = Invoice._meta.get_field("number").max_length - TENANT_SUFFIX
SUBSCRIPTION_ID_MAX = Subscription._meta.get_field("partner_center_id").max_length
SUBSCRIPTION_FIELDS = [
    "offer_name",
    "sku_name",
    "product_family",
    "quantity",
    "billing_cycle",
    "term_end_date",
]
READ_CHUNK = 2**20


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


@dataclass(slots=True)
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

    @property
    def number(self) -> str:
        """The number of the partner's invoice the line belongs to."""
        return invoice_number(self.invoice_number, self.customer_id)


@dataclass
class Result:
    """The import's record; `invoice_ids` are the invoices written (void ones are skipped)."""

    record: ReconciliationImport
    duplicate: bool = False
    invoice_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Customer:
    """A customer named in the file: the name of its last line, the rest of its first."""

    name: str
    domain: str
    country: str
    reseller_mpn_id: str
    pk: int | None = None


@dataclass(slots=True)
class _Invoice:
    """An invoice group: its first line, the sum of its lines' amounts with the mark-up and
    of their tax (the mark-up is applied to the sum, as the invoice's tax)."""

    customer: _Customer
    currency: str
    line: int
    subtotal: Decimal
    tax: Decimal
    is_mixed: bool = False
    # Set once written; stays None for a void invoice, whose lines are skipped.
    pk: int | None = None


@dataclass
class _Survey:
    rows: int
    customers: dict[uuid.UUID, _Customer]
    invoices: dict[str, _Invoice]


def invoice_number(pc_number: str, tenant_id: uuid.UUID) -> str:
    return f"{pc_number}-{str(tenant_id)[:8].upper()}"


# -- reading ---------------------------------------------------------------------------------


def _date(value: str) -> date | None:
    if not value:
        return None
    for pattern in ("%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(_("%(value)s is not a date (M/D/YYYY).") % {"value": value})


def _required(value: str) -> str:
    if not value:
        raise ValueError(_("is empty."))
    return value


def _longest(limit: int):
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(_("is longer than %(limit)s characters.") % {"limit": limit})
        return value

    return check


def _tenant_id(value: str) -> uuid.UUID:
    return uuid.UUID(_required(value))


def _amount(value: str) -> Decimal:
    return parse_amount(value, allow_negative=True, allow_zero=True)


def _amount_or_zero(value: str) -> Decimal:
    return parse_amount(value or "0", allow_negative=True, allow_zero=True)


def _quantity(value: str) -> Decimal:
    return parse_amount(value or "0", allow_zero=True)


def _exchange_rate(value: str) -> Decimal:
    return parse_amount(value or "1")


def _optional_currency(value: str) -> str:
    return validate_currency(value) if value else value


def _json_list(value: str) -> str:
    if value and not isinstance(json.loads(value), list):
        raise ValueError(_("is not a JSON list."))
    return value


def _charge_type(value: str) -> str:
    if value.lower() not in CHARGE_TYPES:
        raise ValueError(_("%(value)s is not a charge type.") % {"value": value})
    return value


_PC_NUMBER_LENGTH = _longest(PC_NUMBER_MAX)

# (column, its position, conversion): in the order problems are reported within a line.
_CHECKS = [
    (column, COLUMNS.index(column), convert)
    for column, convert in (
        ("CustomerId", _tenant_id),
        ("InvoiceNumber", lambda value: _PC_NUMBER_LENGTH(_required(value))),
        ("CustomerName", _required),
        ("BillableQuantity", _quantity),
        ("Subtotal", _amount),
        ("TaxTotal", _amount_or_zero),
        ("Total", _amount),
        ("EffectiveUnitPrice", _amount_or_zero),
        ("Currency", validate_currency),
        ("PricingCurrency", _optional_currency),
        ("PCToBCExchangeRate", _exchange_rate),
        ("ChargeType", _charge_type),
        ("ChargeStartDate", _date),
        ("ChargeEndDate", _date),
        ("SubscriptionEndDate", _date),
        ("OrderDate", _date),
        ("PriceAdjustmentDescription", _json_list),
        ("ProductQualifiers", _json_list),
        ("ProductName", _required),
        ("SubscriptionId", _longest(SUBSCRIPTION_ID_MAX)),
    )
]
# Pass 3 reads a file already checked: only the columns it applies are converted again.
_APPLIED_CHECKS = [
    check
    for check in _CHECKS
    if check[0]
    not in {
        "Total",
        "PricingCurrency",
        "PCToBCExchangeRate",
        "OrderDate",
        "PriceAdjustmentDescription",
        "ProductQualifiers",
    }
]
_INDEX = {name: position for position, name in enumerate(COLUMNS)}


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


def _binary(content: bytes | BinaryIO) -> BinaryIO:
    """A binary file to read (and rewind) as often as needed: an upload, an open file, bytes."""
    if isinstance(content, bytes | bytearray | memoryview):
        return io.BytesIO(content)
    return content


def _sha256(stream: BinaryIO) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(READ_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _text(stream: BinaryIO) -> Iterator[io.TextIOWrapper]:
    """The file from its start, decoded as it is read; the caller's file stays open."""
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield text
    except UnicodeDecodeError:
        raise ImportRejected([(None, _("File"), _("The file is not UTF-8 text."))]) from None
    finally:
        text.detach()


def _check_header(header: list[str]) -> None:
    header = [name.strip() for name in header]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ImportRejected(
            [(1, _("Header"), _("Missing columns: %(names)s.") % {"names": ", ".join(missing)})]
        )
    if header == COLUMNS:
        return
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
        [(1, _("Header"), _("Unexpected extra columns after %(last)s.") % {"last": COLUMNS[-1]})]
    )


def _row(values: list[str], line: int, problems: list, checks: list) -> Row | None:
    """The line as a Row, or None with its problems appended."""
    if len(values) != len(COLUMNS):
        problems.append(
            (
                line,
                _("Row"),
                _("%(count)s cells, expected %(expected)s.")
                % {"count": len(values), "expected": len(COLUMNS)},
            )
        )
        return None
    cell = [value.strip() for value in values]
    converted = {}
    errors_before = len(problems)
    for column, position, convert in checks:
        try:
            converted[column] = convert(cell[position])
        except (ValidationError, ValueError) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            problems.append((line, column, message))
    if len(problems) > errors_before:
        return None
    reseller = cell[_INDEX["ResellerMpnId"]]
    return Row(
        line=line,
        customer_id=converted["CustomerId"],
        customer_name=converted["CustomerName"],
        domain=cell[_INDEX["CustomerDomainName"]],
        country=(cell[_INDEX["CustomerCountry"]] or "NL")[:2].upper(),
        reseller_mpn_id="" if reseller in ("", "0") else reseller,
        invoice_number=converted["InvoiceNumber"],
        product_name=converted["ProductName"],
        sku_name=cell[_INDEX["SkuName"]],
        charge_type=converted["ChargeType"],
        quantity=converted["BillableQuantity"],
        subtotal=converted["Subtotal"],
        tax=converted["TaxTotal"],
        currency=converted["Currency"],
        subscription_id=converted["SubscriptionId"],
        charge_start=converted["ChargeStartDate"],
        charge_end=converted["ChargeEndDate"],
        term_end=converted["SubscriptionEndDate"],
        billing_frequency=cell[_INDEX["BillingFrequency"]],
        unit_price=converted["EffectiveUnitPrice"],
    )


def read_rows(text: Iterable[str], problems: list, *, checks: list = _CHECKS) -> Iterator[Row]:
    """The file's good rows, one at a time; a bad row's problems are appended to `problems`
    instead (reading stops once MAX_REPORTED are known). A wrong header raises at once."""
    reader = csv.reader(text)
    _check_header(next(reader, []))
    for values in reader:
        if len(problems) >= MAX_REPORTED:
            return
        if not any(value.strip() for value in values):
            continue
        row = _row(values, reader.line_num, problems, checks)
        if row is not None:
            yield row


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- pass 2: the whole file checked ----------------------------------------------------------


def _survey(stream: BinaryIO, factor: Decimal) -> _Survey:
    """Every row checked; per customer and per invoice group what applying needs up front."""
    problems: list = []
    customers: dict[uuid.UUID, _Customer] = {}
    invoices: dict[str, _Invoice] = {}
    count = 0
    with _text(stream) as text:
        for row in read_rows(text, problems):
            count += 1
            customer = customers.get(row.customer_id)
            if customer is None:
                customer = customers[row.customer_id] = _Customer(
                    name=row.customer_name[:200],
                    domain=row.domain[:253],
                    country=row.country,
                    reseller_mpn_id=row.reseller_mpn_id[:20],
                )
            else:
                customer.name = row.customer_name[:200]
            number = row.number
            amount = round_money(row.subtotal * factor)
            invoice = invoices.get(number)
            if invoice is None:
                invoices[number] = _Invoice(
                    customer=customer,
                    currency=sys.intern(row.currency),
                    line=row.line,
                    subtotal=amount,
                    tax=row.tax,
                )
            elif invoice.customer is not customer:
                problems.append(
                    (
                        row.line,
                        "CustomerId",
                        _(
                            "Invoice %(number)s would also belong to another customer, whose "
                            "tenant ID starts the same."
                        )
                        % {"number": number},
                    )
                )
            elif row.currency != invoice.currency:
                if not invoice.is_mixed:
                    invoice.is_mixed = True
                    problems.append((row.line, "Currency", _("One invoice mixes currencies.")))
            else:
                invoice.subtotal += amount
                invoice.tax += row.tax
    if problems:
        raise ImportRejected(problems[:MAX_REPORTED])
    if not count:
        raise ImportRejected([(None, _("File"), _("The file has no rows."))])
    return _Survey(rows=count, customers=customers, invoices=invoices)


# -- pass 3: applied -------------------------------------------------------------------------


def _customers_write(*, partner, customers: dict[uuid.UUID, _Customer]) -> int:
    """Match the file's customers by tenant ID, rename the renamed, create the rest; returns
    how many were created."""
    created = 0
    for tenant_ids in _chunks(list(customers), BATCH_SIZE):
        renamed = []
        for customer in (
            Customer.objects.for_partner(partner)
            .filter(microsoft_tenant_id__in=tenant_ids)
            .only("pk", "microsoft_tenant_id", "company_name")
        ):
            seen = customers[customer.microsoft_tenant_id]
            seen.pk = customer.pk
            if customer.company_name != seen.name:
                customer.company_name = seen.name
                renamed.append(customer)
        Customer.objects.for_partner(partner).bulk_update(renamed, ["company_name"])
        new = [
            Customer(
                partner=partner,
                company_name=seen.name,
                primary_domain=seen.domain,
                country=seen.country,
                microsoft_tenant_id=tenant_id,
                reseller_mpn_id=seen.reseller_mpn_id,
                language=partner.default_language,
            )
            for tenant_id in tenant_ids
            if (seen := customers[tenant_id]).pk is None
        ]
        Customer.objects.for_partner(partner).bulk_create(new)
        for customer in new:
            customers[customer.microsoft_tenant_id].pk = customer.pk
        created += len(new)
    return created


def _invoice_status(total: Decimal, paid: Decimal) -> str:
    if total <= paid and total > 0:
        return Invoice.Status.PAID
    if paid > 0:
        return Invoice.Status.PARTIALLY_PAID
    return Invoice.Status.OPEN


def _invoices_write(
    *, partner, invoices: dict[str, _Invoice], factor: Decimal, issue_date: date, due_date: date
) -> tuple[list[int], set[tuple[int, str]]]:
    """Lock the invoices the file names, refuse the file if one is paid beyond its new total,
    update or create them with their totals and drop the lines of those imported before.
    Returns the ids written and their (customer id, currency) pairs; void ones are skipped."""
    ids: list[int] = []
    pairs: set[tuple[int, str]] = set()
    problems = []
    for numbers in _chunks(list(invoices), BATCH_SIZE):
        existing = {
            invoice.number: invoice
            for invoice in Invoice.objects.for_partner(partner)
            .select_for_update()
            .filter(number__in=numbers)
            .order_by("pk")
        }
        new, changed = [], []
        for number in numbers:
            group = invoices[number]
            tax_total = round_money(group.tax * factor)
            total = group.subtotal + tax_total
            invoice = existing.get(number)
            if invoice is None:
                invoice = Invoice(
                    partner=partner,
                    customer_id=group.customer.pk,
                    number=number,
                    currency=group.currency,
                    issue_date=issue_date,
                    due_date=due_date,
                    partner_center_invoice=number[:-TENANT_SUFFIX],
                )
                new.append(invoice)
            elif invoice.status == Invoice.Status.VOID:
                continue
            elif invoice.amount_paid > total:
                problems.append(
                    (
                        group.line,
                        "InvoiceNumber",
                        _("Invoice %(number)s is already paid beyond the new total.")
                        % {"number": number},
                    )
                )
                continue
            else:
                changed.append(invoice)
            invoice.subtotal = group.subtotal
            invoice.tax_total = tax_total
            invoice.total = total
            invoice.status = _invoice_status(total, invoice.amount_paid)
        if problems:
            continue  # the file is refused: find the other problems, write nothing more
        Invoice.objects.for_partner(partner).bulk_update(
            changed, ["subtotal", "tax_total", "total", "status"]
        )
        if changed:
            InvoiceLine.objects.for_partner(partner).filter(invoice__in=changed).delete()
        Invoice.objects.for_partner(partner).bulk_create(new)
        for invoice in (*changed, *new):
            invoices[invoice.number].pk = invoice.pk
            pairs.add((invoice.customer_id, invoice.currency))
        ids.extend(invoices[number].pk for number in numbers if invoices[number].pk is not None)
    if problems:
        raise ImportRejected(problems[:MAX_REPORTED])
    return ids, pairs


class _Subscriptions:
    """Subscriptions upserted a batch at a time on their unique (partner, customer, Partner
    Center ID). The file may write an ID in any letter case: IDs stored with capitals are
    looked up once for the whole import, new subscriptions are stored with the ID in lower
    case (as Partner Center writes it), so no batch has to look anything up."""

    def __init__(self, *, partner, customer_ids: list[int]):
        self.partner = partner
        self.capitalised: dict[tuple[int, str], str] = {}
        for chunk in _chunks(customer_ids, BATCH_SIZE):
            for customer_id, pc_id in (
                Subscription.objects.for_partner(partner)
                .filter(customer_id__in=chunk)
                .exclude(partner_center_id=Lower("partner_center_id"))
                .values_list("customer_id", "partner_center_id")
                .order_by()
            ):
                self.capitalised[(customer_id, pc_id.lower())] = pc_id

    def write(self, batch: list[tuple[int, Row]]) -> dict[tuple[int, str], int]:
        """Upsert the subscriptions of (customer id, row) pairs, each with the values of its
        last row (cancelled if any row cancels it); returns their ids by (customer id, lower
        case Partner Center ID)."""
        wanted: dict[tuple[int, str], tuple[dict, bool]] = {}
        for customer_id, row in batch:
            if not row.subscription_id:
                continue
            key = (customer_id, row.subscription_id.lower())
            earlier = wanted.get(key)
            values = {
                "offer_name": row.product_name[:200],
                "sku_name": row.sku_name[:200],
                "product_family": _family(row.product_name),
                "quantity": max(int(row.quantity), 0),
                "billing_cycle": row.billing_frequency[:40],
                "term_end_date": row.term_end,
            }
            is_cancelled = row.charge_type.lower() == "cancel" or (
                earlier is not None and earlier[1]
            )
            wanted[key] = (values, is_cancelled)
        keyed = []
        active, cancelled = [], []
        for key, (values, is_cancelled) in wanted.items():
            subscription = Subscription(
                partner=self.partner,
                customer_id=key[0],
                partner_center_id=self.capitalised.get(key, key[1]),
                **values,
            )
            if is_cancelled:
                subscription.status = Subscription.Status.CANCELLED
                cancelled.append(subscription)
            else:
                active.append(subscription)
            keyed.append((key, subscription))
        for subscriptions, fields in (
            (active, SUBSCRIPTION_FIELDS),
            (cancelled, [*SUBSCRIPTION_FIELDS, "status"]),
        ):
            # Existing ones keep their status unless cancelled; new ones start active.
            Subscription.objects.for_partner(self.partner).bulk_create(
                subscriptions,
                update_conflicts=True,
                unique_fields=["partner", "customer", "partner_center_id"],
                update_fields=fields,
            )
        return {key: subscription.pk for key, subscription in keyed}


def _batch_write(
    *, partner, batch: list[Row], survey: _Survey, subscriptions: _Subscriptions, factor: Decimal
) -> None:
    pairs = [(survey.customers[row.customer_id].pk, row) for row in batch]
    subscription_ids = subscriptions.write(pairs)
    lines = []
    for customer_id, row in pairs:
        invoice = survey.invoices[row.number]
        if invoice.pk is None:
            continue  # void
        subscription_id = (
            subscription_ids[(customer_id, row.subscription_id.lower())]
            if row.subscription_id
            else None
        )
        lines.append(
            InvoiceLine(
                partner=partner,
                invoice_id=invoice.pk,
                subscription_id=subscription_id,
                description=(row.sku_name or row.product_name)[:300],
                quantity=row.quantity,
                unit_price=(row.unit_price * factor).quantize(Decimal("0.0001")),
                amount=round_money(row.subtotal * factor),
                currency=invoice.currency,
                charge_type=row.charge_type[:20],
                period_start=row.charge_start,
                period_end=row.charge_end,
            )
        )
    InvoiceLine.objects.for_partner(partner).bulk_create(lines)


def _lines_write(*, partner, stream: BinaryIO, survey: _Survey, factor: Decimal) -> None:
    """Pass 3: subscriptions and invoice lines, a batch of lines at a time."""
    subscriptions = _Subscriptions(
        partner=partner, customer_ids=[customer.pk for customer in survey.customers.values()]
    )
    problems: list = []
    batch: list[Row] = []
    with _text(stream) as text:
        for row in read_rows(text, problems, checks=_APPLIED_CHECKS):
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                _batch_write(
                    partner=partner,
                    batch=batch,
                    survey=survey,
                    subscriptions=subscriptions,
                    factor=factor,
                )
                batch = []
    if problems:  # the file changed since it was checked
        raise ImportRejected(problems[:MAX_REPORTED])
    if batch:
        _batch_write(
            partner=partner, batch=batch, survey=survey, subscriptions=subscriptions, factor=factor
        )


def _credit_allocate(*, partner, pairs: set[tuple[int, str]]) -> None:
    """Customers' unallocated payments go to the invoices just written; one query finds the
    few customers with credit in an invoice's currency."""
    customer_ids = sorted({customer_id for customer_id, _currency in pairs})
    owed = set()
    for chunk in _chunks(customer_ids, BATCH_SIZE):
        owed.update(
            Payment.objects.for_partner(partner)
            .filter(customer_id__in=chunk, unallocated__gt=0)
            .values_list("customer_id", "currency")
            .order_by()
            .distinct()
        )
    due = sorted(pairs & owed)
    if not due:
        return
    customers = Customer.objects.for_partner(partner).in_bulk({pk for pk, _currency in due})
    for customer_id, currency in due:
        credit_allocate(partner=partner, customer=customers[customer_id], currency=currency)


@transaction.atomic
def reconciliation_import(
    *, partner, file_name: str, content: bytes | BinaryIO, acting_user=None
) -> Result:
    """Import a reconciliation file: `content` is the file (an upload, a file opened in binary
    mode, or bytes); it is read several times, never whole into memory."""
    stream = _binary(content)
    digest = _sha256(stream)
    existing = ReconciliationImport.objects.for_partner(partner).filter(file_hash=digest).first()
    if existing is not None:
        return Result(record=existing, duplicate=True)
    profile = billing_profile_get(partner=partner)
    factor = Decimal(1) + Decimal(profile.markup_percent) / 100
    today = timezone.localdate(timezone=partner.tz)

    survey = _survey(stream, factor)

    try:
        with transaction.atomic():
            record = ReconciliationImport.objects.create(
                partner=partner,
                file_name=file_name[:200],
                file_hash=digest,
                imported_by=acting_user,
            )
    except IntegrityError:
        # The same file, imported at the same moment by someone else: theirs counts.
        transaction.set_rollback(True)
        raise ImportRejected(
            [(None, _("File"), _("This file is being imported already."))]
        ) from None
    created_customers = _customers_write(partner=partner, customers=survey.customers)
    invoice_ids, pairs = _invoices_write(
        partner=partner,
        invoices=survey.invoices,
        factor=factor,
        issue_date=today,
        due_date=today + timedelta(days=profile.payment_terms_days),
    )
    _lines_write(partner=partner, stream=stream, survey=survey, factor=factor)

    record.row_count = survey.rows
    record.invoice_count = len(invoice_ids)
    record.customer_count = len(survey.customers)
    record.created_customers = created_customers
    ReconciliationImport.objects.for_partner(partner).filter(pk=record.pk).update(
        row_count=record.row_count,
        invoice_count=record.invoice_count,
        customer_count=record.customer_count,
        created_customers=record.created_customers,
    )
    _credit_allocate(partner=partner, pairs=pairs)
    event_record(
        partner_id=partner.pk,
        kind=BillingEvent.Kind.IMPORTED,
        actor=acting_user,
        file=record.file_name,
        rows=survey.rows,
        invoices=len(invoice_ids),
    )
    return Result(record=record, invoice_ids=invoice_ids)
