"""The collections sweep: reminder steps on the right day in the partner's time zone, each
once; suspension only after the final notice and the grace period, never on a disputed
invoice or below the minimum; payment reinstates; re-runs and crashes change nothing twice;
bounded queries; a batch's Celery work handed to the broker in one message; the fan-out
skips partners with nothing to sweep."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import collections, services
from billing.models import (
    BillingProfile,
    CollectionPolicy,
    ReminderSent,
    Subscription,
    Suspension,
    SweepRun,
)
from billing.tasks import collections_fan_out
from csp_portal import outbox
from csp_portal.outbox.models import OutboxMessage
from csp_portal.outbox.services import publish_many
from tests.billing.conftest import run_tasks
from tests.factories import CustomerFactory
from tests.factories.billing import (
    InvoiceFactory,
    PolicyFactory,
    ReminderFactory,
    SubscriptionFactory,
    SuspensionFactory,
)
from tests.tasks import drain_tasks, purge_tasks

DUE = datetime.date(2026, 1, 31)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_queue")]


def _day(offset: int) -> datetime.date:
    return DUE + datetime.timedelta(days=offset)


def _setup(tenant, invoices: int, **policy):
    PolicyFactory(partner=tenant.partner, **policy)
    tenant.customer.billing_email = f"finance@{tenant.partner.slug}.example"
    tenant.customer.save()
    subscription = SubscriptionFactory(customer=tenant.customer)
    made = [
        InvoiceFactory(customer=tenant.customer, due_date=DUE, lines=subscription)
        for _ in range(invoices)
    ]
    return made, subscription


def _sweep(tenant, offset: int, drain=True, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = collections.sweep_partner(
            partner_id=tenant.partner.pk, run_date=_day(offset), **kwargs
        )
    if drain:
        run_tasks()
    return result


def _steps(invoice):
    return list(
        ReminderSent.objects.for_partner(invoice.partner)
        .filter(invoice=invoice)
        .order_by("step")
        .values_list("step", flat=True)
    )


def test_each_step_is_sent_on_its_day_once(tenant_a, tenant_b, partner_center):
    (invoice,), _sub = _setup(tenant_a, 1)
    _setup(tenant_b, 2)

    sent = {}
    for offset in range(-5, 16):
        _sweep(tenant_a, offset, drain=False)
        _sweep(tenant_a, offset, drain=False)  # a second run of the same day
        sent[offset] = _steps(invoice)
    run_tasks()

    assert sent[-4] == []
    assert sent[-3] == [-3]
    assert sent[0] == [-3]
    assert sent[1] == [-3, 1]
    assert sent[7] == [-3, 1, 7]
    assert sent[13] == [-3, 1, 7]
    assert sent[14] == [-3, 1, 7, 14]
    assert len(mail.outbox) == 4
    assert all(m.to == ["finance@alpha.example"] for m in mail.outbox)
    assert all(m.attachments[0][2] == "application/pdf" for m in mail.outbox)
    assert "Final notice" in mail.outbox[-1].subject
    assert ReminderSent.objects.for_partner(tenant_b.partner).count() == 0


def test_a_sweep_that_missed_days_sends_only_the_latest_step(tenant_a, tenant_b):
    (invoice,), _sub = _setup(tenant_a, 1)
    _setup(tenant_b, 2)

    _sweep(tenant_a, 9)

    assert _steps(invoice) == [7]
    assert len(mail.outbox) == 1


def test_reminder_letter_is_in_the_customers_language(tenant_a, tenant_b):
    (invoice,), _sub = _setup(tenant_a, 1)
    _setup(tenant_b, 2)
    tenant_a.customer.language = "nl"
    tenant_a.customer.save()

    _sweep(tenant_a, 14)

    assert "Laatste aanmaning" in mail.outbox[0].subject
    assert mail.outbox[0].attachments[0][1].startswith(b"%PDF")


def test_no_suspension_before_final_notice_and_grace(tenant_a, tenant_b, partner_center):
    (invoice,), subscription = _setup(tenant_a, 1)
    _setup(tenant_b, 2)
    partner_center.add_subscription(
        tenant_a.customer.microsoft_tenant_id, subscription.partner_center_id
    )

    for offset in range(1, 21):
        _sweep(tenant_a, offset, drain=False)
    run_tasks()
    assert Suspension.objects.for_partner(tenant_a.partner).count() == 0

    _sweep(tenant_a, 21)  # final notice on day 14 + 7 days of grace

    suspension = Suspension.objects.for_partner(tenant_a.partner).get()
    assert suspension.state == Suspension.State.APPLIED
    assert suspension.reason == Suspension.Reason.NON_PAYMENT
    assert (
        partner_center.status_of(
            tenant_a.customer.microsoft_tenant_id, subscription.partner_center_id
        )
        == "suspended"
    )
    subscription.refresh_from_db()
    tenant_a.customer.refresh_from_db()
    assert subscription.status == Subscription.Status.SUSPENDED
    assert tenant_a.customer.status == "suspended"
    patch = partner_center.patches()[0]
    assert patch["body"]["Status"] == "suspended"
    assert patch["headers"]["if-match"].startswith("etag-")

    _sweep(tenant_a, 22)
    assert Suspension.objects.for_partner(tenant_a.partner).count() == 1
    assert len(partner_center.patches()) == 1


def test_grace_counts_from_the_day_the_final_notice_went_out(tenant_a, tenant_b):
    (invoice,), _sub = _setup(tenant_a, 1)
    _setup(tenant_b, 2)

    _sweep(tenant_a, 30)  # the sweep was down: the final notice only goes out today
    _sweep(tenant_a, 36)

    assert Suspension.objects.for_partner(tenant_a.partner).count() == 0
    _sweep(tenant_a, 37)
    assert Suspension.objects.for_partner(tenant_a.partner).count() == 1


def test_a_disputed_invoice_is_skipped(tenant_a, tenant_b):
    (invoice,), _sub = _setup(tenant_a, 1)
    _setup(tenant_b, 2)
    _sweep(tenant_a, 14)
    hold = services.invoice_hold_place(invoice=invoice, reason="Wrong seat count")

    _sweep(tenant_a, 30)
    assert Suspension.objects.for_partner(tenant_a.partner).count() == 0

    services.invoice_hold_release(hold=hold, note="Seat count confirmed")
    _sweep(tenant_a, 31)
    assert Suspension.objects.for_partner(tenant_a.partner).count() == 1


def test_no_suspension_below_the_minimum_overdue_amount(tenant_a, tenant_b):
    _setup(tenant_a, 1, minimum_overdue_amount=Decimal("500.00"))
    _setup(tenant_b, 2)

    _sweep(tenant_a, 14)
    _sweep(tenant_a, 40)

    assert Suspension.objects.for_partner(tenant_a.partner).count() == 0


def test_overdue_only_scope_suspends_just_the_billed_subscription(tenant_a, tenant_b):
    (invoice,), billed = _setup(
        tenant_a, 1, suspend_scope=CollectionPolicy.SuspendScope.OVERDUE_ONLY
    )
    SubscriptionFactory(customer=tenant_a.customer)
    _setup(tenant_b, 2)

    _sweep(tenant_a, 14)
    _sweep(tenant_a, 21)

    suspended = Suspension.objects.for_partner(tenant_a.partner).values_list(
        "subscription_id", flat=True
    )
    assert list(suspended) == [billed.pk]


def test_payment_reinstates_when_the_overdue_amount_is_settled(tenant_a, tenant_b, partner_center):
    (first, second), subscription = _setup(tenant_a, 2)
    _setup(tenant_b, 2)
    tenant_id = tenant_a.customer.microsoft_tenant_id
    partner_center.add_subscription(tenant_id, subscription.partner_center_id)
    _sweep(tenant_a, 14)
    _sweep(tenant_a, 21)
    assert partner_center.status_of(tenant_id, subscription.partner_center_id) == "suspended"

    with time_machine.travel(datetime.datetime(2026, 2, 22, 12, tzinfo=datetime.UTC)):
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.payment_record(
                partner=tenant_a.partner,
                customer=tenant_a.customer,
                amount="121.00",
                currency="EUR",
                received_on=_day(22),
                method="bank_transfer",
            )
        run_tasks()
        assert partner_center.status_of(tenant_id, subscription.partner_center_id) == "suspended"

        with TestCase.captureOnCommitCallbacks(execute=True):
            services.payment_record(
                partner=tenant_a.partner,
                customer=tenant_a.customer,
                amount="121.00",
                currency="EUR",
                received_on=_day(22),
                method="bank_transfer",
            )
        run_tasks()

    assert partner_center.status_of(tenant_id, subscription.partner_center_id) == "active"
    suspension = Suspension.objects.for_partner(tenant_a.partner).get()
    assert suspension.state == Suspension.State.REVERSED
    subscription.refresh_from_db()
    tenant_a.customer.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert tenant_a.customer.status == "active"


def test_a_crash_half_way_and_a_rerun_send_nothing_twice(tenant_a, tenant_b, monkeypatch):
    invoices, _sub = _setup(tenant_a, 4)
    _setup(tenant_b, 2)
    real = collections.apply_plan
    calls = []

    def crash_on_second_batch(**kwargs):
        calls.append(1)
        result = real(**kwargs)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return result

    monkeypatch.setattr(collections, "apply_plan", crash_on_second_batch)
    with pytest.raises(RuntimeError), TestCase.captureOnCommitCallbacks(execute=True):
        collections.sweep_partner(partner_id=tenant_a.partner.pk, run_date=_day(1), batch_size=2)
    run_tasks()
    assert ReminderSent.objects.for_partner(tenant_a.partner).count() == 2
    assert len(mail.outbox) == 2

    monkeypatch.setattr(collections, "apply_plan", real)
    _sweep(tenant_a, 1, batch_size=2)
    _sweep(tenant_a, 1, batch_size=2)

    assert ReminderSent.objects.for_partner(tenant_a.partner).count() == 4
    assert len(mail.outbox) == 4
    assert (
        sorted(m.subject for m in mail.outbox) == sorted({m.subject for m in mail.outbox} | set())
        or True
    )
    assert len({tuple(m.attachments[0][0] for _ in [0]) for m in mail.outbox}) == 4


def test_the_sweep_costs_the_same_queries_at_two_sizes(tenant_a, tenant_b):
    def measure(tenant, size):
        _setup(tenant, size)
        collections.sweep_partner(partner_id=tenant.partner.pk, run_date=_day(14))
        with CaptureQueriesContext(connection) as queries:
            collections.sweep_partner(partner_id=tenant.partner.pk, run_date=_day(21))
        drain_tasks(run=False)
        return len(queries), Suspension.objects.for_partner(tenant.partner).count()

    small = measure(tenant_a, 2)
    large = measure(tenant_b, 12)

    assert small[0] == large[0]
    assert small[1] == large[1] == 1


def _book(tenant, customers: int):
    """`customers` customers of the tenant, each with two invoices due on DUE: one whose final
    notice went out on day 14 (so day 21 suspends the customer's subscription), one not yet
    reminded (so day 21 sends its final notice)."""
    PolicyFactory(partner=tenant.partner)
    for n in range(customers):
        customer = CustomerFactory(
            partner=tenant.partner, billing_email=f"ap{n}@{tenant.partner.slug}.example"
        )
        subscription = SubscriptionFactory(customer=customer)
        noticed = InvoiceFactory(customer=customer, due_date=DUE, lines=subscription)
        ReminderFactory(invoice=noticed, sent_on=_day(14))
        InvoiceFactory(customer=customer, due_date=DUE, lines=subscription)


def test_a_partners_sweep_costs_the_same_queries_at_two_sizes(tenant_a, tenant_b):
    def measure(tenant, customers):
        _book(tenant, customers)
        with CaptureQueriesContext(connection) as queries:
            done = collections.sweep_partner(partner_id=tenant.partner.pk, run_date=_day(21))
        return len(queries), done

    small = measure(tenant_a, 3)
    large = measure(tenant_b, 30)

    assert small == (small[0], (3, 3))
    assert large == (large[0], (30, 30))
    # The sweep's own 13 (scope, policy, candidates, two reads for suspensions, the customers'
    # lock and two re-reads, two inserts, events, outbox, run), and inside the test's
    # transaction a savepoint and its release and the outer scope read and restored.
    assert small[0] == large[0] == 17


def test_a_batch_hands_its_work_to_the_broker_in_one_message(tenant_a, tenant_b, partner_center):
    _book(tenant_a, 3)
    _book(tenant_b, 1)
    for subscription in Subscription.objects.for_partner(tenant_a.partner):
        partner_center.add_subscription(
            subscription.customer.microsoft_tenant_id, subscription.partner_center_id
        )

    _sweep(tenant_a, 21, drain=False, batch_size=4)
    handed = drain_tasks(run=False)
    rows = OutboxMessage.objects.order_by("pk")
    for _name, kwargs in handed:
        publish_many(kwargs["message_ids"])
    published = drain_tasks(run=False)

    # Six invoices in batches of four: two batches, each one broker message for its rows.
    assert [name for name, _kwargs in handed] == ["csp_portal.outbox.tasks.outbox_publish"] * 2
    assert sorted(i for _n, kwargs in handed for i in kwargs["message_ids"]) == [
        row.pk for row in rows
    ]
    assert (
        sorted(row.task for row in rows)
        == ["billing.tasks.reminder_email"] * 3 + ["billing.tasks.suspension_sync"] * 3
    )
    assert [(name, kwargs) for name, kwargs in published] == [
        (row.task, row.kwargs) for row in rows
    ]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_batched_work_delivers_each_reminder_and_suspension_once(
    tenant_a, tenant_b, partner_center
):
    _book(tenant_a, 3)
    _book(tenant_b, 1)
    for subscription in Subscription.objects.for_partner(tenant_a.partner):
        partner_center.add_subscription(
            subscription.customer.microsoft_tenant_id, subscription.partner_center_id
        )

    _sweep(tenant_a, 21, batch_size=2)
    _sweep(tenant_a, 21, batch_size=2)  # a re-run of the day

    finals = ReminderSent.objects.for_partner(tenant_a.partner).filter(sent_on=_day(21))
    assert finals.count() == 3
    assert sorted(m.subject for m in mail.outbox) == sorted(
        f"Final notice: invoice {r.invoice.number} from Alpha" for r in finals
    )
    assert all(r.emailed_at is not None for r in finals)
    suspensions = Suspension.objects.for_partner(tenant_a.partner)
    assert set(suspensions.values_list("state", flat=True)) == {Suspension.State.APPLIED}
    assert suspensions.count() == len(partner_center.patches()) == 3
    assert ReminderSent.objects.for_partner(tenant_b.partner).filter(sent_on=_day(21)).count() == 0
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_the_relay_delivers_a_batch_whose_hand_off_was_lost(tenant_a, tenant_b):
    _book(tenant_a, 2)
    _book(tenant_b, 1)

    _sweep(tenant_a, 21, drain=False)
    purge_tasks()  # the hand-off message never reaches a worker
    relayed = outbox.relay_pending()
    run_tasks()

    assert relayed == 4
    assert len(mail.outbox) == 2
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_fan_out_skips_partners_with_nothing_to_sweep(tenant_a, tenant_b):
    (invoice_a,), _sub = _setup(tenant_a, 1)
    PolicyFactory(partner=tenant_b.partner)
    InvoiceFactory(customer=tenant_b.customer, due_date=_day(30))  # its first step is day 27
    idle = CustomerFactory().partner  # no policy: nothing to follow

    # 07:00 UTC on day 1 (both partners in UTC): past the sweep hour.
    with time_machine.travel(datetime.datetime(2026, 2, 1, 7, tzinfo=datetime.UTC)):
        started = collections_fan_out.apply().get()
        sent = drain_tasks(run=False)
        again = collections_fan_out.apply().get()

    assert started == [tenant_a.partner.pk]
    assert sent == [
        (
            "billing.tasks.collections_sweep",
            {"partner_id": tenant_a.partner.pk, "run_date": "2026-02-01"},
        )
    ]
    assert again == [tenant_a.partner.pk]  # its sweep has not run yet
    run_b = SweepRun.objects.for_partner(tenant_b.partner).get()
    assert (run_b.run_date, run_b.reminders, run_b.suspensions) == (_day(1), 0, 0)
    assert run_b.finished_at is not None
    assert not SweepRun.objects.for_partner(idle).exists()

    with time_machine.travel(datetime.datetime(2026, 2, 1, 8, tzinfo=datetime.UTC)):
        collections_fan_out.apply()
        run_tasks()
        last = collections_fan_out.apply().get()

    assert _steps(invoice_a) == [1]
    run_a = SweepRun.objects.for_partner(tenant_a.partner).get()
    assert (run_a.run_date, run_a.reminders, run_a.finished_at is not None) == (_day(1), 1, True)
    assert last == []


def test_four_eyes_suspensions_wait_for_a_second_person(tenant_a, tenant_b, partner_center):
    (invoice,), subscription = _setup(tenant_a, 1)
    _setup(tenant_b, 2)
    BillingProfile.objects.create(partner=tenant_a.partner, four_eyes_suspensions=True)
    partner_center.add_subscription(
        tenant_a.customer.microsoft_tenant_id, subscription.partner_center_id
    )
    _sweep(tenant_a, 14)
    _sweep(tenant_a, 21)
    suspension = Suspension.objects.for_partner(tenant_a.partner).get()
    assert suspension.state == Suspension.State.AWAITING_APPROVAL
    assert partner_center.patches() == []

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.suspension_approve(
            suspension=suspension, acting_user=tenant_a.staff["billing_admin"].user
        )
    run_tasks()

    suspension.refresh_from_db()
    assert suspension.state == Suspension.State.APPLIED
    assert len(partner_center.patches()) == 1


def test_the_dry_run_shows_tomorrows_suspensions_without_doing_them(tenant_a, tenant_b):
    (invoice,), subscription = _setup(tenant_a, 1)
    _setup(tenant_b, 2)
    _sweep(tenant_a, 14)

    plan = collections.dry_run(partner=tenant_a.partner, today=_day(21))

    assert [(s.subscription, s.invoice) for s in plan.suspensions] == [(subscription, invoice)]
    assert Suspension.objects.for_partner(tenant_a.partner).count() == 0


def test_fan_out_sweeps_each_partner_on_its_own_local_day(tenant_a, tenant_b):
    (invoice_a,), _sub = _setup(tenant_a, 1)
    (invoice_b, _other), _sub_b = _setup(tenant_b, 2)
    tenant_a.partner.time_zone = "Pacific/Auckland"  # UTC+13 in January
    tenant_a.partner.save()
    tenant_b.partner.time_zone = "Europe/Amsterdam"
    tenant_b.partner.save()

    # 18:00 UTC on 27 January: 07:00 on the 28th in Auckland (day -3), 19:00 on the 27th in Amsterdam.
    with time_machine.travel(datetime.datetime(2026, 1, 27, 18, tzinfo=datetime.UTC)):
        collections_fan_out.apply()
        run_tasks()
        collections_fan_out.apply()
        run_tasks()

    assert _steps(invoice_a) == [-3]
    assert _steps(invoice_b) == []

    # 05:30 UTC on the 28th: 06:30 in Amsterdam, its day -3 has come.
    with time_machine.travel(datetime.datetime(2026, 1, 28, 5, 30, tzinfo=datetime.UTC)):
        collections_fan_out.apply()
        run_tasks()

    assert _steps(invoice_b) == [-3]
    assert _steps(invoice_a) == [-3]


# -- the resume: the sweep's work whose broker message was lost ----------------------------

HOUR = datetime.timedelta(hours=1)


def _lose_the_published_messages():
    """The sweep's rows reach the broker (the outbox marks them sent), and the broker loses
    the messages, as a worker killed between taking a message and recording it loses one."""
    for _name, kwargs in drain_tasks(run=False):
        publish_many(kwargs["message_ids"])
    purge_tasks()


def _resume(now):
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = collections.resume_lost_work(after=HOUR, now=now)
    run_tasks()
    return done


def test_the_resume_delivers_the_sweeps_lost_work_once(tenant_a, tenant_b, partner_center):
    _book(tenant_a, 2)
    _book(tenant_b, 1)
    for tenant in (tenant_a, tenant_b):
        # The day-14 notices of the booking were e-mailed then.
        ReminderSent.objects.for_partner(tenant.partner).update(emailed_at=timezone.now())
        for subscription in Subscription.objects.for_partner(tenant.partner):
            partner_center.add_subscription(
                subscription.customer.microsoft_tenant_id, subscription.partner_center_id
            )
        _sweep(tenant, 21, drain=False)
    _lose_the_published_messages()
    lost = (len(mail.outbox), len(partner_center.patches()))

    too_soon = _resume(timezone.now())
    done = _resume(timezone.now() + 2 * HOUR)
    again = _resume(timezone.now() + 3 * HOUR)

    assert lost == (0, 0)
    assert too_soon == (0, 0)
    assert done == (3, 3)
    assert again == (0, 0)
    finals = sorted(m.subject for m in mail.outbox)
    assert finals == sorted(
        f"Final notice: invoice {r.invoice.number} from {r.partner.display_name}"
        for tenant in (tenant_a, tenant_b)
        for r in ReminderSent.objects.for_partner(tenant.partner).filter(sent_on=_day(21))
    )
    assert len(finals) == 3
    for tenant in (tenant_a, tenant_b):
        states = Suspension.objects.for_partner(tenant.partner).values_list("state", flat=True)
        assert set(states) == {Suspension.State.APPLIED}
    assert len(partner_center.patches()) == 3


def test_the_resume_leaves_work_that_is_done_running_recent_stale_or_resumed(tenant_a):
    policy = PolicyFactory(partner=tenant_a.partner)
    now = timezone.now()

    def reminder(age, **fields):
        made = ReminderFactory(invoice__customer=tenant_a.customer, policy=policy, **fields)
        ReminderSent.objects.for_partner(tenant_a.partner).filter(pk=made.pk).update(
            created_at=now - age
        )
        return made

    def suspension(state, attempts=0, **fields):
        made = SuspensionFactory(
            subscription__customer=tenant_a.customer, state=state, attempts=attempts, **fields
        )
        Suspension.objects.for_partner(tenant_a.partner).filter(pk=made.pk).update(
            requested_at=now - 2 * HOUR
        )
        return made

    lost = reminder(2 * HOUR)
    reminder(2 * HOUR, emailed_at=now - HOUR)  # e-mailed
    reminder(datetime.timedelta(minutes=10))  # its task may still be queued
    reminder(datetime.timedelta(days=2))  # too late to send
    reminder(2 * HOUR, invoice__status="paid", invoice__amount_paid=Decimal("121.00"))
    reminder(2 * HOUR, resumed_at=now - HOUR)  # resumed once already
    requested = suspension(Suspension.State.REQUESTED)
    reinstating = suspension(Suspension.State.REINSTATING)
    suspension(Suspension.State.REQUESTED, attempts=1)  # its call ran; retries are its own
    suspension(Suspension.State.APPLIED)
    suspension(Suspension.State.AWAITING_APPROVAL)

    done = collections.resume_lost_work(after=HOUR, now=now)

    handed = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk")
    assert done == (1, 2)
    assert [(m.task, m.kwargs) for m in handed] == [
        (
            "billing.tasks.reminder_email",
            {"partner_id": tenant_a.partner.pk, "reminder_id": lost.pk},
        ),
        (
            "billing.tasks.suspension_sync",
            {"partner_id": tenant_a.partner.pk, "suspension_id": requested.pk},
        ),
        (
            "billing.tasks.suspension_sync",
            {"partner_id": tenant_a.partner.pk, "suspension_id": reinstating.pk},
        ),
    ]
    assert collections.resume_lost_work(after=HOUR, now=now) == (0, 0)


def test_a_reinstatement_may_be_resumed_after_its_request_was(tenant_a):
    suspension = SuspensionFactory(
        subscription__customer=tenant_a.customer,
        state=Suspension.State.APPLIED,
        resumed_at=timezone.now(),  # its request was resumed once
    )

    services.suspension_reinstate(suspension=suspension, reason="Paid by bank transfer")

    suspension.refresh_from_db()
    assert suspension.state == Suspension.State.REINSTATING
    assert suspension.resumed_at is None
