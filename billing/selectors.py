"""Reads of billing data. Each owns its joins, so a page's query count is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Lower

from csp_portal.accounts.models import Customer
from csp_portal.compiled import CompiledRead

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


def held_invoice_ids(*, partner) -> set[int]:
    holds = InvoiceHold.objects.for_partner(partner).filter(released_at__isnull=True)
    return set(holds.values_list("invoice_id", flat=True))


def with_collection_state(invoices, *, partner):
    """`invoices` annotated with where collection stands on each: `is_held` (an open
    dispute), `latest_step` (the last reminder step sent) and `final_sent_on` (the day the
    final notice went out). The sweep plans from these; the overdue accounts show them."""
    reminders = ReminderSent.objects.for_partner(partner).filter(invoice=OuterRef("pk"))
    return invoices.annotate(
        is_held=Exists(
            InvoiceHold.objects.for_partner(partner).filter(
                invoice=OuterRef("pk"), released_at__isnull=True
            )
        ),
        latest_step=Subquery(reminders.order_by("-step").values("step")[:1]),
        final_sent_on=Subquery(
            reminders.filter(is_final_notice=True).order_by("sent_on", "step").values("sent_on")[:1]
        ),
    )


def customer_overdue_total(*, partner, customer_id, today: date, currency=None) -> Decimal:
    """What the customer owes past due, disputed (held) invoices aside."""
    invoices = open_invoices(partner=partner).filter(customer_id=customer_id, due_date__lt=today)
    if currency:
        invoices = invoices.filter(currency=currency)
    invoices = invoices.exclude(holds__released_at__isnull=True, holds__isnull=False)
    return invoices.aggregate(total=Coalesce(Sum(BALANCE), ZERO))["total"]


def _bucket_filter(key, low, high, today, field: str = "due_date"):
    if low is None:
        return Q(**{f"{field}__gte": today})
    q = Q(**{f"{field}__lte": today - timedelta(days=low)})
    if high is not None:
        q &= Q(**{f"{field}__gte": today - timedelta(days=high)})
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


ACCOUNTS_PER_PAGE = 50
_ACCOUNT_ORDER = {
    "amount": ("-overdue", "oldest_due", "customer_id"),
    "oldest": ("oldest_due", "-overdue", "customer_id"),
    "name": (Lower("customer__company_name"), "customer_id"),
}


@dataclass
class AccountRow:
    customer_id: int
    company_name: str
    overdue: Decimal
    oldest_due: date
    days_overdue: int
    bucket: str
    currency: str
    status: str = ""
    next_step: str = ""
    next_date: date | None = None


def overdue_accounts(
    *, partner, today: date, currency: str, sort: str = "amount", bucket: str = ""
):
    """Customers with invoices overdue in `currency`, one row each (`customer_id`,
    `customer__company_name`, `overdue` total, `oldest_due` date), aggregated, filtered by the
    aging bucket of the oldest invoice and sorted in the database: a page of it is a count and
    the page, whatever the size of the overdue book."""
    accounts = (
        open_invoices(partner=partner)
        # The customer's partner named too: the join then reads the partner's customers by
        # index instead of filtering every partner's through row-level security.
        .filter(currency=currency, due_date__lt=today, customer__partner_id=partner.pk)
        .values("customer_id", "customer__company_name")
        .annotate(overdue=Sum(BALANCE), oldest_due=Min("due_date"))
    )
    if bucket:
        bounds = {key: (low, high) for key, _label, low, high in BUCKETS}.get(bucket)
        if bounds is None:
            return accounts.none()
        accounts = accounts.filter(_bucket_filter(bucket, *bounds, today, field="oldest_due"))
    return accounts.order_by(*_ACCOUNT_ORDER.get(sort, _ACCOUNT_ORDER["amount"]))


def overdue_accounts_page(
    *,
    partner,
    today: date,
    currency: str,
    policy: CollectionPolicy | None,
    sort: str = "amount",
    bucket: str = "",
    page=None,
    per_page: int = ACCOUNTS_PER_PAGE,
) -> Page:
    """One page of `overdue_accounts`, its rows as `AccountRow`s with their status and next
    collection step: three queries (count, page, the page's details)."""
    accounts = overdue_accounts(
        partner=partner, today=today, currency=currency, sort=sort, bucket=bucket
    )
    result = Paginator(accounts, per_page).get_page(page)
    result.object_list = account_rows(
        partner=partner,
        accounts=list(result.object_list),
        today=today,
        currency=currency,
        policy=policy,
    )
    return result


def _next_action(invoice: dict, policy: CollectionPolicy | None) -> tuple[date, str] | None:
    """An overdue invoice's next collection action (date, kind): none while it is on hold;
    the suspension after the final notice and the grace period; else the first reminder step
    after the last one sent (`final_notice` on the policy's final-notice day)."""
    if policy is None or invoice["is_held"]:
        return None
    if invoice["final_sent_on"] is not None:
        return invoice["final_sent_on"] + timedelta(days=policy.grace_days), "suspension"
    latest = invoice["latest_step"]
    for step in policy.reminder_steps:
        if latest is None or latest < step:
            kind = "final_notice" if step == policy.final_notice_day else "reminder"
            return invoice["due_date"] + timedelta(days=step), kind
    return None


def account_rows(
    *,
    partner,
    accounts: list[dict],
    today: date,
    currency: str,
    policy: CollectionPolicy | None,
) -> list[AccountRow]:
    """`overdue_accounts` rows completed with what their overdue invoices are at: the status
    (suspended, on hold, final notice, reminded) and the earliest next collection step (on a
    tie, that of the oldest invoice). One query reads the page's customers' overdue invoices
    with their hold, last step and final notice; the rest is worked out here, over at most a
    page of customers' invoices (a query computing it in SQL cost more to build than to run)."""
    if not accounts:
        return []
    invoices = (
        with_collection_state(
            open_invoices(partner=partner).filter(
                customer_id__in=[row["customer_id"] for row in accounts],
                currency=currency,
                due_date__lt=today,
            ),
            partner=partner,
        )
        .annotate(
            is_suspended=Exists(
                Suspension.objects.for_partner(partner).filter(
                    customer_id=OuterRef("customer_id"), state__in=Suspension.OPEN_STATES
                )
            ),
        )
        .values(
            "pk",
            "customer_id",
            "due_date",
            "is_held",
            "latest_step",
            "final_sent_on",
            "is_suspended",
        )
        .order_by("due_date", "pk")  # so the first of equal next dates is the oldest invoice
    )
    details: dict[int, dict] = {}
    for invoice in invoices:
        detail = details.setdefault(
            invoice["customer_id"],
            {"on_hold": 0, "final_notices": 0, "reminded": 0, "is_suspended": False},
        )
        detail["is_suspended"] |= invoice["is_suspended"]
        if invoice["is_held"]:
            detail["on_hold"] += 1
        else:
            detail["final_notices"] += invoice["final_sent_on"] is not None
            detail["reminded"] += invoice["latest_step"] is not None
        action = _next_action(invoice, policy)
        if action is not None and (
            "next_step_date" not in detail or action[0] < detail["next_step_date"]
        ):
            detail["next_step_date"], detail["next_step"] = action
    rows = []
    for account in accounts:
        detail = details.get(account["customer_id"], {})
        days = (today - account["oldest_due"]).days
        rows.append(
            AccountRow(
                customer_id=account["customer_id"],
                company_name=account["customer__company_name"],
                overdue=account["overdue"],
                oldest_due=account["oldest_due"],
                days_overdue=days,
                bucket=bucket_of(days),
                currency=currency,
                status=_account_status(detail),
                next_step=detail.get("next_step") or "",
                next_date=detail.get("next_step_date"),
            )
        )
    return rows


def _account_status(detail: dict) -> str:
    if detail.get("is_suspended"):
        return "suspended"
    if detail.get("on_hold"):
        return "on_hold"
    if detail.get("final_notices"):
        return "final_notice"
    if detail.get("reminded"):
        return "reminded"
    return ""


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


def _owed(*, partner, customer):
    return (
        open_invoices(partner=partner)
        .filter(customer=customer)
        .values("currency")
        .annotate(owed=Sum(BALANCE))
        .values_list("currency", "owed")
    )


def _credit(*, partner, customer):
    return (
        Payment.objects.for_partner(partner)
        .filter(customer=customer, unallocated__gt=0)
        .values("currency")
        .annotate(credit=Sum("unallocated"))
        .values_list("currency", "credit")
    )


# Read on every customer portal home page: compiled once per process.
_OWED = CompiledRead(_owed, partner=-1, customer=-2)
_CREDIT = CompiledRead(_credit, partner=-1, customer=-2)


def customer_balance(*, partner, customer) -> list[dict]:
    """Open balance and credit per currency."""
    owed = dict(_OWED.rows(partner=partner, customer=customer))
    credit = dict(_CREDIT.rows(partner=partner, customer=customer))
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
