"""Reads of billing data. Each owns its joins, so a page's query count is decided here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce

from csp_portal.accounts.models import Customer

from .models import (
    BillingEvent,
    CollectionPolicy,
    Invoice,
    InvoiceHold,
    Payment,
    PolicyAcknowledgement,
    ReminderSent,
    Subscription,
    Suspension,
)

ZERO = Decimal("0.00")
BALANCE = ExpressionWrapper(F("total") - F("amount_paid"), output_field=DecimalField())
BUCKETS = [
    ("current", "Current", None, 0),
    ("1_30", "1–30", 1, 30),
    ("31_60", "31–60", 31, 60),
    ("61_90", "61–90", 61, 90),
    ("90_plus", "90+", 91, None),
]


def policy_current(*, partner) -> CollectionPolicy | None:
    return CollectionPolicy.objects.for_partner(partner).order_by("-version").first()


# An invoice with something left to pay.
OPEN = Q(status__in=Invoice.OPEN_STATUSES, total__gt=F("amount_paid"))


def open_invoices(*, partner):
    return Invoice.objects.for_partner(partner).filter(OPEN)


def held_invoice_ids(*, partner, invoice_ids=None) -> set[int]:
    holds = InvoiceHold.objects.for_partner(partner).filter(released_at__isnull=True)
    if invoice_ids is not None:
        holds = holds.filter(invoice_id__in=invoice_ids)
    return set(holds.values_list("invoice_id", flat=True))


def customer_overdue_total(*, partner, customer_id, today: date, currency=None) -> Decimal:
    """What the customer owes past due, disputed (held) invoices aside."""
    invoices = open_invoices(partner=partner).filter(customer_id=customer_id, due_date__lt=today)
    if currency:
        invoices = invoices.filter(currency=currency)
    invoices = invoices.exclude(holds__released_at__isnull=True, holds__isnull=False)
    return invoices.aggregate(total=Coalesce(Sum(BALANCE), ZERO))["total"]


def _bucket_filter(key, low, high, today):
    if low is None:
        return Q(due_date__gte=today)
    q = Q(due_date__lte=today - timedelta(days=low))
    if high is not None:
        q &= Q(due_date__gte=today - timedelta(days=high))
    return q


def aging(*, partner, today: date, currency: str, customer_id=None) -> list[dict]:
    """Totals and counts per aging bucket (current, 1–30, 31–60, 61–90, 90+), one query."""
    invoices = open_invoices(partner=partner).filter(currency=currency)
    if customer_id is not None:
        invoices = invoices.filter(customer_id=customer_id)
    aggregates = {}
    for key, _label, low, high in BUCKETS:
        condition = _bucket_filter(key, low, high, today)
        aggregates[f"{key}_total"] = Coalesce(Sum(BALANCE, filter=condition), ZERO)
        aggregates[f"{key}_count"] = Count("pk", filter=condition)
    row = invoices.aggregate(**aggregates)
    return [
        {
            "key": key,
            "label": label,
            "total": row[f"{key}_total"],
            "count": row[f"{key}_count"],
        }
        for key, label, _low, _high in BUCKETS
    ]


def bucket_of(days_overdue: int) -> str:
    for key, _label, low, high in BUCKETS:
        if low is None and days_overdue <= 0:
            return key
        if low is not None and days_overdue >= low and (high is None or days_overdue <= high):
            return key
    return "current"


@dataclass
class AccountRow:
    customer: Customer
    overdue: Decimal
    oldest_due: date | None
    days_overdue: int
    bucket: str
    currency: str
    status: str = ""
    next_step: str = ""
    next_date: date | None = None
    invoices: list = field(default_factory=list)


def next_step_for(*, invoice: Invoice, policy: CollectionPolicy | None, sent_steps, held: bool):
    """The invoice's next collection action and its date: a reminder step, the suspension
    after the final notice, or nothing (on hold, no policy)."""
    if policy is None or held:
        return "", None
    final = next((r for r in sent_steps if r.is_final_notice), None)
    if final is not None:
        return "suspension", final.sent_on + timedelta(days=policy.grace_days)
    done = max((r.step for r in sent_steps), default=None)
    for step in policy.reminder_steps:
        if done is None or step > done:
            kind = "final_notice" if step == policy.final_notice_day else "reminder"
            return kind, invoice.due_date + timedelta(days=step)
    return "", None


def overdue_accounts(
    *, partner, today: date, currency: str, sort: str = "amount", bucket: str = ""
) -> list[AccountRow]:
    """Customers with overdue invoices, with their status and next collection step, in a
    fixed number of queries."""
    policy = policy_current(partner=partner)
    invoices = list(
        open_invoices(partner=partner)
        .filter(currency=currency, due_date__lt=today)
        .select_related("customer")
        .order_by("due_date", "pk")
    )
    ids = [invoice.pk for invoice in invoices]
    held = held_invoice_ids(partner=partner, invoice_ids=ids)
    reminders: dict[int, list[ReminderSent]] = {}
    for reminder in ReminderSent.objects.for_partner(partner).filter(invoice_id__in=ids):
        reminders.setdefault(reminder.invoice_id, []).append(reminder)
    suspended = set(
        Suspension.objects.for_partner(partner)
        .filter(state__in=Suspension.OPEN_STATES)
        .values_list("customer_id", flat=True)
    )
    rows: dict[int, AccountRow] = {}
    for invoice in invoices:
        row = rows.get(invoice.customer_id)
        if row is None:
            row = rows[invoice.customer_id] = AccountRow(
                customer=invoice.customer,
                overdue=ZERO,
                oldest_due=invoice.due_date,
                days_overdue=invoice.days_overdue(today),
                bucket=bucket_of(invoice.days_overdue(today)),
                currency=currency,
            )
        row.overdue += invoice.balance
        row.invoices.append(invoice)
        sent = reminders.get(invoice.pk, [])
        kind, when = next_step_for(
            invoice=invoice, policy=policy, sent_steps=sent, held=invoice.pk in held
        )
        if when is not None and (row.next_date is None or when < row.next_date):
            row.next_step, row.next_date = kind, when
        status = (
            "on_hold"
            if invoice.pk in held
            else "final_notice"
            if any(r.is_final_notice for r in sent)
            else "reminded"
            if sent
            else ""
        )
        if _STATUS_RANK[status] > _STATUS_RANK[row.status]:
            row.status = status
    for row in rows.values():
        if row.customer.pk in suspended:
            row.status = "suspended"
    result = [row for row in rows.values() if not bucket or row.bucket == bucket]
    if sort == "oldest":
        result.sort(key=lambda row: (row.oldest_due, -row.overdue))
    elif sort == "name":
        result.sort(key=lambda row: row.customer.company_name.lower())
    else:
        result.sort(key=lambda row: (-row.overdue, row.oldest_due))
    return result


_STATUS_RANK = {"": 0, "reminded": 1, "final_notice": 2, "on_hold": 3, "suspended": 4}


def customer_account(*, partner, customer: Customer) -> dict:
    """Everything on a customer's account page."""
    invoices = list(
        Invoice.objects.for_partner(partner)
        .filter(customer=customer)
        .order_by("-issue_date", "-pk")
    )
    ids = [invoice.pk for invoice in invoices]
    return {
        "invoices": invoices,
        "payments": list(
            Payment.objects.for_partner(partner)
            .filter(customer=customer)
            .prefetch_related("allocations__invoice")
        ),
        "reminders": list(
            ReminderSent.objects.for_partner(partner)
            .filter(invoice_id__in=ids)
            .select_related("invoice", "policy")
            .order_by("-sent_on", "-step")
        ),
        "suspensions": list(
            Suspension.objects.for_partner(partner)
            .filter(customer=customer)
            .select_related("subscription", "requested_by", "approved_by", "reversed_by")
        ),
        "holds": list(
            InvoiceHold.objects.for_partner(partner)
            .filter(invoice_id__in=ids)
            .select_related("invoice", "placed_by", "released_by")
        ),
        "subscriptions": list(
            Subscription.objects.for_partner(partner)
            .filter(customer=customer)
            .order_by("offer_name")
        ),
        "events": list(
            BillingEvent.objects.for_partner(partner)
            .filter(customer=customer)
            .select_related("actor")[:50]
        ),
        "acknowledgements": list(
            PolicyAcknowledgement.objects.for_partner(partner)
            .filter(customer=customer)
            .select_related("policy", "user")
        ),
    }


def customer_balance(*, partner, customer) -> list[dict]:
    """Open balance and credit per currency."""
    owed = {
        row["currency"]: row["owed"]
        for row in open_invoices(partner=partner)
        .filter(customer=customer)
        .values("currency")
        .annotate(owed=Sum(BALANCE))
    }
    credit = {
        row["currency"]: row["credit"]
        for row in Payment.objects.for_partner(partner)
        .filter(customer=customer, unallocated__gt=0)
        .values("currency")
        .annotate(credit=Sum("unallocated"))
    }
    return [
        {"currency": code, "owed": owed.get(code, ZERO), "credit": credit.get(code, ZERO)}
        for code in sorted(set(owed) | set(credit))
    ]


def statement_lines(*, partner, customer, today: date) -> dict:
    invoices = list(open_invoices(partner=partner).filter(customer=customer).order_by("due_date"))
    for invoice in invoices:
        invoice.bucket = bucket_of(invoice.days_overdue(today))
    currencies = sorted({invoice.currency for invoice in invoices}) or [partner.currency]
    return {
        "invoices": invoices,
        "aging": {
            code: aging(partner=partner, today=today, currency=code, customer_id=customer.pk)
            for code in currencies
        },
        "balance": customer_balance(partner=partner, customer=customer),
    }


def awaiting_approval(*, partner):
    return (
        Suspension.objects.for_partner(partner)
        .filter(state=Suspension.State.AWAITING_APPROVAL)
        .select_related("customer", "subscription", "invoice", "requested_by")
        .order_by("requested_at")
    )
