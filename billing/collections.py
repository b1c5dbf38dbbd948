"""The collections sweep: plan what one partner's day calls for, and carry it out.

`plan_batch` is a pure decision over prefetched rows (it serves both the sweep and the
"who is suspended tomorrow" dry run); `sweep_partner` walks the partner's overdue invoices in
batches, each batch in its own transaction, with a fixed number of queries per batch (the
first batch also reads the policy, the last records the finished run, so a partner with one
batch is one transaction):

- a reminder step is sent once per invoice: its `ReminderSent` row is inserted with
  `ON CONFLICT DO NOTHING RETURNING` in the transaction that enqueues the e-mail (after
  commit), so a re-run or a crash half-way sends nothing twice;
- only the latest due step is sent (a sweep that missed days does not send a pile);
- a subscription is suspended only when the final notice was sent, the grace period since
  it has passed, the invoice is not on hold and the customer's overdue amount reaches the
  policy's minimum; one open suspension per subscription is a unique constraint;
- the Celery work of a batch (its e-mails and Partner Center calls) is written to the outbox
  with one INSERT and handed to a worker with one broker message (`outbox.enqueue_many`).

The daily fan-out asks once, across partners, which due partners have a candidate invoice at
all (`partners_with_candidates`); the others get their finished (empty) run recorded without
a sweep of their own (`record_empty_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, Min, OuterRef, Subquery, Sum
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


def _partner_id(partner) -> int:
    """The sweep's functions take a Partner or its id (the sweep itself never loads the row)."""
    return getattr(partner, "pk", partner)


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
    """Unpaid invoices whose first reminder step has come, in primary-key order, each with
    what `plan_batch` decides on: `is_held` (an open dispute), `latest_step` (the last
    reminder step sent) and `final_sent_on` (the day the final notice went out)."""
    first_step = min(policy.reminder_steps)
    return (
        selectors.with_collection_state(
            selectors.open_invoices(partner=partner).filter(
                due_date__lte=today - timedelta(days=first_step)
            ),
            partner=partner,
        )
        .select_related("customer")
        .order_by("pk")
    )


def plan_batch(*, partner, policy: CollectionPolicy, invoices: list[Invoice], today: date) -> Plan:
    """What the sweep of `today` does to these invoices (from `candidate_invoices`): no query
    unless one is past its grace period, then at most three, whatever their number."""
    plan = Plan()
    past_grace: list[Invoice] = []
    for invoice in invoices:
        if invoice.is_held:
            plan.on_hold.append(invoice)
            continue
        due_steps = [
            step
            for step in policy.reminder_steps
            if invoice.due_date + timedelta(days=step) <= today
        ]
        latest_sent = invoice.latest_step
        final_sent_on = invoice.final_sent_on
        if (
            due_steps
            and final_sent_on is None
            and (latest_sent is None or due_steps[-1] > latest_sent)
        ):
            step = due_steps[-1]
            plan.reminders.append(
                PlannedReminder(invoice, step, is_final_notice=step == policy.final_notice_day)
            )
        if (
            final_sent_on is not None
            and final_sent_on + timedelta(days=policy.grace_days) <= today
            and invoice.due_date < today
        ):
            past_grace.append(invoice)

    if not past_grace:
        return plan
    overdue = _overdue_by_customer(
        partner=partner,
        policy=policy,
        customer_ids={invoice.customer_id for invoice in past_grace},
        today=today,
    )
    ready = [invoice for invoice in past_grace if _reaches_minimum(overdue, invoice, policy)]
    if not ready:
        return plan
    # The active subscriptions to suspend (one query), each marked when it already has an
    # open suspension.
    open_suspensions = Suspension.objects.for_partner(partner).filter(
        state__in=Suspension.OPEN_STATES
    )
    if policy.suspend_scope == CollectionPolicy.SuspendScope.ALL:
        by_customer: dict[int, list[Subscription]] = {}
        for subscription in (
            Subscription.objects.for_partner(partner)
            .filter(
                customer_id__in={invoice.customer_id for invoice in ready},
                status=Subscription.Status.ACTIVE,
            )
            .annotate(is_suspended=Exists(open_suspensions.filter(subscription=OuterRef("pk"))))
        ):
            by_customer.setdefault(subscription.customer_id, []).append(subscription)
        targets = {invoice.pk: by_customer.get(invoice.customer_id, []) for invoice in ready}
    else:
        targets = {invoice.pk: [] for invoice in ready}
        for line in (
            InvoiceLine.objects.for_partner(partner)
            .filter(invoice_id__in=targets, subscription__status=Subscription.Status.ACTIVE)
            .annotate(
                is_suspended=Exists(
                    open_suspensions.filter(subscription=OuterRef("subscription_id"))
                )
            )
            .select_related("subscription")
            .order_by("pk")
        ):
            line.subscription.is_suspended = line.is_suspended
            if line.subscription not in targets[line.invoice_id]:
                targets[line.invoice_id].append(line.subscription)
    already = {
        subscription.pk
        for subscriptions_of_invoice in targets.values()
        for subscription in subscriptions_of_invoice
        if subscription.is_suspended
    }
    for invoice in ready:
        for subscription in targets[invoice.pk]:
            if subscription.pk not in already:
                already.add(subscription.pk)
                plan.suspensions.append(PlannedSuspension(subscription, invoice))
    return plan


def _overdue_by_customer(*, partner, policy: CollectionPolicy, customer_ids, today: date):
    """What each customer owes past due in the policy's currency, disputed invoices aside."""
    return {
        row["customer_id"]: row["owed"]
        for row in selectors.open_invoices(partner=partner)
        .filter(customer_id__in=customer_ids, due_date__lt=today, currency=policy.currency)
        .exclude(holds__released_at__isnull=True, holds__isnull=False)
        .values("customer_id")
        .annotate(owed=Sum(selectors.BALANCE))
    }


def _reaches_minimum(overdue: dict, invoice: Invoice, policy: CollectionPolicy) -> bool:
    owed = overdue.get(invoice.customer_id, ZERO)
    return owed >= policy.minimum_overdue_amount and owed > 0


def _insert_returning(model, rows: list[dict], returning: tuple[str, ...] = ("id",)) -> list:
    """INSERT rows, skipping those a unique constraint refuses, and return the `returning`
    columns of the new rows: only the rows this transaction inserted get their follow-up
    work."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = list(rows[0])
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {placeholders} ON CONFLICT DO NOTHING "
        f"RETURNING {', '.join(quote(c) for c in returning)}"
    )
    params = [row[column] for row in rows for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
        owed = _overdue_by_customer(
            partner=partner,
            policy=policy,
            customer_ids={item.invoice.customer_id for item in suspensions},
            today=today,
        )
        suspensions = [item for item in suspensions if _reaches_minimum(owed, item.invoice, policy)]
    return Plan(
        reminders=[item for item in plan.reminders if item.invoice.pk in still_open],
        suspensions=suspensions,
        on_hold=plan.on_hold,
    )


def apply_plan(*, partner, policy: CollectionPolicy, plan: Plan, today: date, four_eyes: bool):
    """Carry out a plan inside the caller's transaction; its Celery work goes to the outbox
    in the same transaction, all of it in one INSERT, handed to a worker after commit."""
    from .tasks import reminder_email, suspension_sync

    partner_id = _partner_id(partner)
    plan = _recheck_under_lock(partner=partner, policy=policy, plan=plan, today=today)
    now = timezone.now()
    reminders = _insert_returning(
        ReminderSent,
        [
            {
                "partner_id": partner_id,
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
        returning=("id", "invoice_id", "step", "is_final_notice"),
    )
    state = Suspension.State.AWAITING_APPROVAL if four_eyes else Suspension.State.REQUESTED
    suspension_rows = []
    for item in plan.suspensions:
        row = Suspension(
            partner_id=partner_id,
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
    suspensions = _insert_returning(
        Suspension,
        suspension_rows,
        returning=("id", "customer_id", "invoice_id", "subscription_id", "state"),
    )

    customer_of = {item.invoice.pk: item.invoice.customer_id for item in plan.reminders}
    BillingEvent.objects.bulk_create(
        [
            BillingEvent(
                partner_id=partner_id,
                customer_id=customer_of[invoice_id],
                invoice_id=invoice_id,
                kind=BillingEvent.Kind.REMINDER_SENT,
                data={"step": step, "final_notice": is_final_notice},
            )
            for _id, invoice_id, step, is_final_notice in reminders
        ]
        + [
            BillingEvent(
                partner_id=partner_id,
                customer_id=customer_id,
                invoice_id=invoice_id,
                kind=BillingEvent.Kind.SUSPENSION_REQUESTED,
                data={"subscription_id": subscription_id, "state": suspension_state},
            )
            for _id, customer_id, invoice_id, subscription_id, suspension_state in suspensions
        ]
    )

    calls = [
        (reminder_email, {"partner_id": partner_id, "reminder_id": reminder[0]})
        for reminder in reminders
    ]
    if not four_eyes:
        calls += [
            (suspension_sync, {"partner_id": partner_id, "suspension_id": suspension[0]})
            for suspension in suspensions
        ]
    outbox.enqueue_many(calls)
    return len(reminders), len(suspensions)


def _sweep_policy(*, partner_id: int) -> CollectionPolicy | None:
    """The policy in force, with the partner's four-eyes setting as `four_eyes` (one query)."""
    four_eyes = BillingProfile.objects.for_partner(partner_id).values("four_eyes_suspensions")
    return (
        CollectionPolicy.objects.for_partner(partner_id)
        .annotate(four_eyes=Subquery(four_eyes[:1]))
        .order_by("-version")
        .first()
    )


def _record_run(
    *, partner_id: int, run_date: date, started_at, finished: bool, reminders: int, suspensions: int
) -> None:
    """Record the day's run in one statement: inserted by the first run of the day, its counts
    added to by a re-run."""
    table = connection.ops.quote_name(SweepRun._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS run "  # noqa: S608 - our own table name
            "(partner_id, run_date, started_at, finished_at, reminders, suspensions) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (partner_id, run_date) DO UPDATE SET "
            "finished_at = coalesce(excluded.finished_at, run.finished_at), "
            "reminders = run.reminders + excluded.reminders, "
            "suspensions = run.suspensions + excluded.suspensions",
            [
                partner_id,
                run_date,
                started_at,
                timezone.now() if finished else None,
                reminders,
                suspensions,
            ],
        )


def sweep_partner(
    *, partner_id: int, run_date: date, batch_size: int = BATCH_SIZE
) -> tuple[int, int]:
    """One partner's sweep of `run_date` (its local day). Each batch commits on its own; a
    re-run finds the rows of what was done and does nothing twice. The first batch reads the
    policy; the last (a short one) records the finished run, so a partner with fewer
    candidates than a batch is swept in one transaction."""
    started_at = timezone.now()
    policy = None
    last_pk = 0
    totals = [0, 0]
    while True:
        with partner_scope(partner_id):
            if policy is None:
                policy = _sweep_policy(partner_id=partner_id)
                if policy is None:
                    # Nothing to follow: the run stays unfinished, so a policy published
                    # later in the day is swept at the next fan-out.
                    _record_run(
                        partner_id=partner_id,
                        run_date=run_date,
                        started_at=started_at,
                        finished=False,
                        reminders=0,
                        suspensions=0,
                    )
                    return 0, 0
            invoices = list(
                candidate_invoices(partner=partner_id, policy=policy, today=run_date).filter(
                    pk__gt=last_pk
                )[:batch_size]
            )
            if invoices:
                last_pk = invoices[-1].pk
                plan = plan_batch(
                    partner=partner_id, policy=policy, invoices=invoices, today=run_date
                )
                reminders, suspensions = apply_plan(
                    partner=partner_id,
                    policy=policy,
                    plan=plan,
                    today=run_date,
                    four_eyes=bool(policy.four_eyes),
                )
                totals[0] += reminders
                totals[1] += suspensions
            done = len(invoices) < batch_size
            if done:
                _record_run(
                    partner_id=partner_id,
                    run_date=run_date,
                    started_at=started_at,
                    finished=True,
                    reminders=totals[0],
                    suspensions=totals[1],
                )
        if done:
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


def partners_with_candidates(
    due: list[tuple[int, date]],
) -> tuple[list[tuple[int, date]], list[tuple[int, date]]]:
    """Split the due partners (id, local day) into those whose sweep has a candidate invoice
    to look at and those with a policy but nothing to look at today (partners without a
    policy are in neither: they stay due, as their sweep would leave them). Two queries,
    whatever the number of partners."""
    if not due:
        return [], []
    partner_ids = [partner_id for partner_id, _day in due]
    with partner_scope(None, bypass=True):
        # Deliberately across partners: the fan-out reads every due partner's policy in force
        # and oldest open invoice once, instead of a sweep per partner finding nothing.
        first_steps = {
            partner_id: min(steps)
            for partner_id, steps in CollectionPolicy.objects.unscoped()
            .filter(partner_id__in=partner_ids)
            .order_by("partner_id", "-version")
            .distinct("partner_id")
            .values_list("partner_id", "reminder_steps")
        }
        latest_cutoff = max(day for _id, day in due) - timedelta(
            days=min(first_steps.values(), default=0)
        )
        oldest_due = dict(
            Invoice.objects.unscoped()
            .filter(selectors.OPEN, partner_id__in=first_steps, due_date__lte=latest_cutoff)
            .values("partner_id")
            .annotate(oldest=Min("due_date"))
            .values_list("partner_id", "oldest")
        )
    to_sweep, empty = [], []
    for partner_id, day in due:
        if partner_id not in first_steps:
            continue
        oldest = oldest_due.get(partner_id)
        if oldest is not None and oldest <= day - timedelta(days=first_steps[partner_id]):
            to_sweep.append((partner_id, day))
        else:
            empty.append((partner_id, day))
    return to_sweep, empty


def record_empty_runs(runs: list[tuple[int, date]]) -> None:
    """Record the finished, empty run of each partner's day that had nothing to sweep (what
    its sweep would have recorded), in one statement."""
    if not runs:
        return
    now = timezone.now()
    with partner_scope(None, bypass=True):
        # Deliberately across partners: one INSERT for every partner the fan-out skipped.
        SweepRun.objects.unscoped().bulk_create(
            [
                SweepRun(partner_id=partner_id, run_date=day, started_at=now, finished_at=now)
                for partner_id, day in runs
            ],
            update_conflicts=True,
            unique_fields=["partner", "run_date"],
            update_fields=["finished_at"],
        )


# -- the resume: the sweep's work whose broker message was lost -------------------------------
#
# The outbox guarantees that every e-mail and Partner Center call of a sweep reaches the
# broker. Redis can still lose a message after that: a worker killed between taking a message
# off the queue and recording it as unacknowledged (kombu's Redis transport does the two in
# separate steps), or a Redis restart without persistence. Nothing would ask for that work
# again (the sweep does not send a step twice), so the resume looks for it.

# A reminder not e-mailed within this long is not sent late: the next step will be.
RESUME_WITHIN = timedelta(days=1)
RESUME_LIMIT = 1000


def resume_lost_work(*, after: timedelta, now=None, limit: int = RESUME_LIMIT) -> tuple[int, int]:
    """Hand to the workers again, across partners, the sweep's work that waited longer than
    `after` for its task: reminders of open invoices never e-mailed (from the last day), and
    suspensions and reinstatements whose Partner Center call never ran (requested or
    reinstating, no attempt). Each reminder is resumed once at most, each suspension once
    per state it waits in; the tasks are idempotent, so work whose message was only slow is
    done once all the same. Returns (reminders, suspensions) resumed."""
    from .tasks import reminder_email, suspension_sync

    now = now or timezone.now()
    with partner_scope(None, bypass=True):
        # Deliberately across partners: two short lookups of rows no partner's page shows,
        # locked so that two resumes (or a running task) never take the same row.
        reminders = list(
            ReminderSent.objects.unscoped()
            .select_for_update(skip_locked=True, of=("self",))
            .filter(
                emailed_at__isnull=True,
                resumed_at__isnull=True,
                created_at__lte=now - after,
                created_at__gt=now - RESUME_WITHIN,
                invoice__status__in=Invoice.OPEN_STATUSES,
            )
            .order_by("created_at")
            .values_list("pk", "partner_id")[:limit]
        )
        suspensions = list(
            Suspension.objects.unscoped()
            .select_for_update(skip_locked=True)
            .filter(
                state__in=[Suspension.State.REQUESTED, Suspension.State.REINSTATING],
                attempts=0,
                resumed_at__isnull=True,
                requested_at__lte=now - after,
            )
            .order_by("requested_at")
            .values_list("pk", "partner_id")[:limit]
        )
        ReminderSent.objects.unscoped().filter(pk__in=[pk for pk, _p in reminders]).update(
            resumed_at=now
        )
        Suspension.objects.unscoped().filter(pk__in=[pk for pk, _p in suspensions]).update(
            resumed_at=now
        )
        outbox.enqueue_many(
            [
                (reminder_email, {"partner_id": partner_id, "reminder_id": pk})
                for pk, partner_id in reminders
            ]
            + [
                (suspension_sync, {"partner_id": partner_id, "suspension_id": pk})
                for pk, partner_id in suspensions
            ]
        )
    return len(reminders), len(suspensions)
