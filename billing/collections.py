"""The collections sweep: plan what one partner's day calls for, and carry it out.

`plan_batch` is a pure decision over prefetched rows (it serves both the sweep and the
"who is suspended tomorrow" dry run); `sweep_partner` walks the partner's overdue invoices in
batches, each batch in its own transaction, with a fixed number of queries per batch:

- a reminder step is sent once per invoice: its `ReminderSent` row is inserted with
  `ON CONFLICT DO NOTHING RETURNING` in the transaction that enqueues the e-mail (after
  commit), so a re-run or a crash half-way sends nothing twice;
- only the latest due step is sent (a sweep that missed days does not send a pile);
- a subscription is suspended only when the final notice was sent, the grace period since
  it has passed, the invoice is not on hold and the customer's overdue amount reaches the
  policy's minimum; one open suspension per subscription is a unique constraint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from csp_portal import outbox
from csp_portal.accounts.models import Customer, Partner
from csp_portal.accounts.tenancy import partner_scope

from . import selectors
from .models import (
    BillingEvent,
    BillingProfile,
    CollectionPolicy,
    Invoice,
    InvoiceLine,
    ReminderSent,
    Subscription,
    Suspension,
    SweepRun,
)

BATCH_SIZE = 500
ZERO = Decimal("0.00")


@dataclass
class PlannedReminder:
    invoice: Invoice
    step: int
    is_final_notice: bool


@dataclass
class PlannedSuspension:
    subscription: Subscription
    invoice: Invoice


@dataclass
class Plan:
    reminders: list[PlannedReminder] = field(default_factory=list)
    suspensions: list[PlannedSuspension] = field(default_factory=list)
    on_hold: list[Invoice] = field(default_factory=list)


def candidate_invoices(*, partner, policy: CollectionPolicy, today: date):
    """Unpaid invoices whose first reminder step has come, in primary-key order."""
    first_step = min(policy.reminder_steps)
    return (
        selectors.open_invoices(partner=partner)
        .filter(due_date__lte=today - timedelta(days=first_step))
        .select_related("customer")
        .order_by("pk")
    )


def plan_batch(*, partner, policy: CollectionPolicy, invoices: list[Invoice], today: date) -> Plan:
    """What the sweep of `today` does to these invoices (six queries, whatever their number)."""
    plan = Plan()
    ids = [invoice.pk for invoice in invoices]
    sent: dict[int, list[ReminderSent]] = {}
    for reminder in ReminderSent.objects.for_partner(partner).filter(invoice_id__in=ids):
        sent.setdefault(reminder.invoice_id, []).append(reminder)
    held = selectors.held_invoice_ids(partner=partner, invoice_ids=ids)
    customer_ids = {invoice.customer_id for invoice in invoices}
    overdue = {
        row["customer_id"]: row["owed"]
        for row in selectors.open_invoices(partner=partner)
        .filter(customer_id__in=customer_ids, due_date__lt=today, currency=policy.currency)
        .exclude(holds__released_at__isnull=True, holds__isnull=False)
        .values("customer_id")
        .annotate(owed=Sum(selectors.BALANCE))
    }

    ready: list[Invoice] = []
    for invoice in invoices:
        if invoice.pk in held:
            plan.on_hold.append(invoice)
            continue
        rows = sent.get(invoice.pk, [])
        due_steps = [
            step
            for step in policy.reminder_steps
            if invoice.due_date + timedelta(days=step) <= today
        ]
        latest_sent = max((row.step for row in rows), default=None)
        final = next((row for row in rows if row.is_final_notice), None)
        if due_steps and final is None and (latest_sent is None or due_steps[-1] > latest_sent):
            step = due_steps[-1]
            plan.reminders.append(
                PlannedReminder(invoice, step, is_final_notice=step == policy.final_notice_day)
            )
        if (
            final is not None
            and final.sent_on + timedelta(days=policy.grace_days) <= today
            and invoice.due_date < today
            and overdue.get(invoice.customer_id, ZERO) >= policy.minimum_overdue_amount
            and overdue.get(invoice.customer_id, ZERO) > 0
        ):
            ready.append(invoice)

    if not ready:
        return plan
    ready_customers = {invoice.customer_id for invoice in ready}
    if policy.suspend_scope == CollectionPolicy.SuspendScope.ALL:
        by_customer: dict[int, list[Subscription]] = {}
        for subscription in Subscription.objects.for_partner(partner).filter(
            customer_id__in=ready_customers, status=Subscription.Status.ACTIVE
        ):
            by_customer.setdefault(subscription.customer_id, []).append(subscription)
        targets = {invoice.pk: by_customer.get(invoice.customer_id, []) for invoice in ready}
    else:
        targets = {invoice.pk: [] for invoice in ready}
        for line in (
            InvoiceLine.objects.for_partner(partner)
            .filter(
                invoice_id__in=[invoice.pk for invoice in ready],
                subscription__status=Subscription.Status.ACTIVE,
            )
            .select_related("subscription")
        ):
            if line.subscription not in targets[line.invoice_id]:
                targets[line.invoice_id].append(line.subscription)
    already = set(
        Suspension.objects.for_partner(partner)
        .filter(customer_id__in=ready_customers, state__in=Suspension.OPEN_STATES)
        .values_list("subscription_id", flat=True)
    )
    for invoice in ready:
        for subscription in targets[invoice.pk]:
            if subscription.pk not in already:
                already.add(subscription.pk)
                plan.suspensions.append(PlannedSuspension(subscription, invoice))
    return plan


def _insert_returning(model, rows: list[dict]) -> list[int]:
    """INSERT rows, skipping those a unique constraint refuses, and return the new ids: only
    the rows this transaction inserted get their follow-up work."""
    if not rows:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    columns = list(rows[0])
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "  # noqa: S608
        f"VALUES {placeholders} ON CONFLICT DO NOTHING RETURNING id"
    )
    params = [row[column] for row in rows for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _recheck_under_lock(*, partner, policy: CollectionPolicy, plan: Plan, today: date) -> Plan:
    """Take the row locks payments take (the customers, in id order, before anything else is
    written), then drop what a payment committed since the plan was read has made moot. A
    payment arriving from now on waits for this batch's commit, and its reinstatement check
    then sees this batch's suspensions — so a paid customer is never left suspended."""
    items = plan.reminders + plan.suspensions
    if not items:
        return plan
    customer_ids = sorted({item.invoice.customer_id for item in items})
    list(
        Customer.objects.for_partner(partner)
        .select_for_update()
        .filter(pk__in=customer_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    still_open = set(
        selectors.open_invoices(partner=partner)
        .filter(pk__in={item.invoice.pk for item in items})
        .values_list("pk", flat=True)
    )
    suspensions = [item for item in plan.suspensions if item.invoice.pk in still_open]
    if suspensions:
        owed = {
            row["customer_id"]: row["owed"]
            for row in selectors.open_invoices(partner=partner)
            .filter(
                customer_id__in={item.invoice.customer_id for item in suspensions},
                due_date__lt=today,
                currency=policy.currency,
            )
            .exclude(holds__released_at__isnull=True, holds__isnull=False)
            .values("customer_id")
            .annotate(owed=Sum(selectors.BALANCE))
        }
        suspensions = [
            item
            for item in suspensions
            if owed.get(item.invoice.customer_id, ZERO) >= policy.minimum_overdue_amount
            and owed.get(item.invoice.customer_id, ZERO) > 0
        ]
    return Plan(
        reminders=[item for item in plan.reminders if item.invoice.pk in still_open],
        suspensions=suspensions,
        on_hold=plan.on_hold,
    )


def apply_plan(*, partner, policy: CollectionPolicy, plan: Plan, today: date, four_eyes: bool):
    """Carry out a plan inside the caller's transaction; its Celery work goes to the outbox
    in the same transaction (published after commit)."""
    from .tasks import reminder_email, suspension_sync

    plan = _recheck_under_lock(partner=partner, policy=policy, plan=plan, today=today)
    now = timezone.now()
    reminder_ids = _insert_returning(
        ReminderSent,
        [
            {
                "partner_id": partner.pk,
                "invoice_id": item.invoice.pk,
                "step": item.step,
                "is_final_notice": item.is_final_notice,
                "policy_id": policy.pk,
                "sent_on": today,
                "created_at": now,
                "emailed_to": "",
            }
            for item in plan.reminders
        ],
    )
    state = Suspension.State.AWAITING_APPROVAL if four_eyes else Suspension.State.REQUESTED
    suspension_rows = []
    for item in plan.suspensions:
        row = Suspension(
            partner_id=partner.pk,
            customer_id=item.invoice.customer_id,
            subscription_id=item.subscription.pk,
            invoice_id=item.invoice.pk,
            policy_id=policy.pk,
            reason=Suspension.Reason.NON_PAYMENT,
            state=state,
        )
        suspension_rows.append(
            {
                "partner_id": row.partner_id,
                "customer_id": row.customer_id,
                "subscription_id": row.subscription_id,
                "invoice_id": row.invoice_id,
                "policy_id": row.policy_id,
                "reason": row.reason,
                "note": "",
                "state": row.state,
                "requested_at": now,
                "reversal_reason": "",
                "attempts": 0,
                "last_error": "",
                "request_id": row.request_id,
            }
        )
    suspension_ids = _insert_returning(Suspension, suspension_rows)

    inserted_reminders = set(reminder_ids)
    events = []
    if inserted_reminders:
        for reminder in (
            ReminderSent.objects.for_partner(partner)
            .filter(pk__in=reminder_ids)
            .select_related("invoice")
        ):
            events.append(
                BillingEvent(
                    partner_id=partner.pk,
                    customer_id=reminder.invoice.customer_id,
                    invoice_id=reminder.invoice_id,
                    kind=BillingEvent.Kind.REMINDER_SENT,
                    data={"step": reminder.step, "final_notice": reminder.is_final_notice},
                )
            )
    inserted = set(suspension_ids)
    if inserted:
        for suspension in Suspension.objects.for_partner(partner).filter(pk__in=suspension_ids):
            events.append(
                BillingEvent(
                    partner_id=partner.pk,
                    customer_id=suspension.customer_id,
                    invoice_id=suspension.invoice_id,
                    kind=BillingEvent.Kind.SUSPENSION_REQUESTED,
                    data={"subscription_id": suspension.subscription_id, "state": suspension.state},
                )
            )
    BillingEvent.objects.bulk_create(events)

    partner_id = partner.pk
    for reminder_id in reminder_ids:
        outbox.enqueue(reminder_email, partner_id=partner_id, reminder_id=reminder_id)
    if not four_eyes:
        for suspension_id in suspension_ids:
            outbox.enqueue(suspension_sync, partner_id=partner_id, suspension_id=suspension_id)
    return len(reminder_ids), len(suspension_ids)


def sweep_partner(
    *, partner_id: int, run_date: date, batch_size: int = BATCH_SIZE
) -> tuple[int, int]:
    """One partner's sweep of `run_date` (its local day). Each batch commits on its own; a
    re-run finds the rows of what was done and does nothing twice."""
    with partner_scope(partner_id):
        partner = Partner.objects.get(pk=partner_id)
        policy = selectors.policy_current(partner=partner)
        profile = BillingProfile.objects.for_partner(partner).first()
        run, _created = SweepRun.objects.for_partner(partner).get_or_create(
            partner=partner, run_date=run_date
        )
    if policy is None:
        return 0, 0
    four_eyes = bool(profile and profile.four_eyes_suspensions)
    last_pk = 0
    totals = [0, 0]
    while True:
        with partner_scope(partner_id):
            invoices = list(
                candidate_invoices(partner=partner, policy=policy, today=run_date).filter(
                    pk__gt=last_pk
                )[:batch_size]
            )
            if not invoices:
                break
            last_pk = invoices[-1].pk
            plan = plan_batch(partner=partner, policy=policy, invoices=invoices, today=run_date)
            reminders, suspensions = apply_plan(
                partner=partner, policy=policy, plan=plan, today=run_date, four_eyes=four_eyes
            )
            totals[0] += reminders
            totals[1] += suspensions
    with partner_scope(partner_id):
        SweepRun.objects.for_partner(partner).filter(pk=run.pk).update(
            finished_at=timezone.now(),
            reminders=run.reminders + totals[0],
            suspensions=run.suspensions + totals[1],
        )
    return totals[0], totals[1]


def dry_run(*, partner, today: date) -> Plan:
    """What the sweep of `today` would do, without doing it."""
    policy = selectors.policy_current(partner=partner)
    plan = Plan()
    if policy is None:
        return plan
    invoices = list(candidate_invoices(partner=partner, policy=policy, today=today))
    result = plan_batch(partner=partner, policy=policy, invoices=invoices, today=today)
    # The final notice this sweep sends starts the grace period; the plan shows it.
    return result


def partners_due_for_sweep(*, now=None, hour: int) -> list[tuple[int, date]]:
    """Partners whose local time has reached the sweep hour and whose local day has not
    been swept yet. Partners are not tenant rows (no row-level security on them); the sweep
    runs are read with the RLS bypass, because this enumerates every partner."""
    now = now or timezone.now()
    due = []
    partners = list(Partner.objects.filter(is_active=True).only("pk", "time_zone"))
    with partner_scope(None, bypass=True):
        # Deliberately across partners: the fan-out needs each partner's last run.
        done = set(
            SweepRun.objects.unscoped()
            .filter(finished_at__isnull=False, run_date__gte=(now - timedelta(days=2)).date())
            .values_list("partner_id", "run_date")
        )
    for partner in partners:
        local = timezone.localtime(now, partner.tz)
        if local.hour >= hour and (partner.pk, local.date()) not in done:
            due.append((partner.pk, local.date()))
    return due
