"""Drill: a payment is recorded while the collections sweep suspends the same customer, both at
once, many times over (two threads, two database connections, committed transactions).
Whatever the interleaving, a customer who has paid is never left suspended, in the portal or
at Partner Center.

The payment's reinstatement check runs right after its commit (as an idle worker would pick
it up). One round forces the interleaving that used to lose — the sweep plans the suspension
before the payment and writes it after the payment's check found nothing to reverse — by
holding back the sweep's suspension insert with a table lock until the payment has either
finished or is waiting for the sweep; the other rounds start both at once with jitter."""

from __future__ import annotations

import datetime
import random
import threading
import time

import pytest
from django.db import connection, transaction

from billing import collections, services
from billing.models import Subscription, Suspension
from csp_portal.accounts.models import Customer
from csp_portal.accounts.tenancy import partner_scope
from tests.billing.partner_center_stub import PartnerCenterStub
from tests.drills.conftest import wait_for
from tests.factories import CustomerFactory, PartnerFactory
from tests.factories.billing import (
    InvoiceFactory,
    PolicyFactory,
    ReminderFactory,
    SubscriptionFactory,
)
from tests.tasks import drain_tasks, purge_tasks

DUE = datetime.date(2026, 1, 31)
RUN_DATE = DUE + datetime.timedelta(days=21)
ROUNDS = 8

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def partner_center(settings):
    stub = PartnerCenterStub().start()
    settings.PARTNER_CENTER_BASE_URL = stub.base_url
    settings.PARTNER_CENTER_BACKOFF_SECONDS = 0.01
    purge_tasks()
    yield stub
    stub.stop()
    purge_tasks()


def _in_thread(target, barrier, errors):
    def run():
        try:
            if barrier is not None:
                barrier.wait(timeout=10)
                time.sleep(random.uniform(0, 0.015))  # noqa: S311 - jitter, not security
            target()
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views keep their first snapshot; drop it.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _forced_interleaving(threads, errors) -> None:
    """Sweep first, held before it writes a suspension; then the payment, until it is done or
    waits for the sweep; then let the sweep go."""
    sweep_thread, pay_thread = threads
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE billing_suspension IN SHARE MODE")
        sweep_thread.start()
        wait_for(
            lambda: errors or _waiting_on_locks() >= 1, timeout=30, what="the sweep to be held"
        )
        assert not errors, errors
        pay_thread.start()
        wait_for(
            lambda: not pay_thread.is_alive() or _waiting_on_locks() >= 2,
            timeout=30,
            what="the payment to finish or wait",
        )


def test_a_paid_customer_is_never_left_suspended(partner_center):
    started = time.monotonic()
    partner = PartnerFactory()
    policy = PolicyFactory(partner=partner)
    outcomes = {"suspended then reinstated": 0, "not suspended": 0}
    for forced in [True] + [False] * ROUNDS:
        customer = CustomerFactory(partner=partner, billing_email="ap@example.com")
        subscription = SubscriptionFactory(customer=customer)
        invoice = InvoiceFactory(customer=customer, due_date=DUE, lines=subscription)
        ReminderFactory(invoice=invoice, policy=policy)  # final notice, grace passed
        partner_center.add_subscription(
            str(customer.microsoft_tenant_id), subscription.partner_center_id
        )

        def sweep():
            collections.sweep_partner(partner_id=partner.pk, run_date=RUN_DATE)

        def pay(customer=customer, invoice=invoice):
            with partner_scope(partner.pk):
                services.payment_record(
                    partner=partner,
                    customer=Customer.objects.for_partner(partner).get(pk=customer.pk),
                    amount=str(invoice.total),
                    currency="EUR",
                    received_on=RUN_DATE,
                    method="bank_transfer",
                )
            # An idle worker takes the payment's reinstatement check at once.
            drain_tasks()

        barrier, errors = (None if forced else threading.Barrier(2)), []
        threads = [_in_thread(sweep, barrier, errors), _in_thread(pay, barrier, errors)]
        if forced:
            _forced_interleaving(threads, errors)
        else:
            for thread in threads:
                thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        # Then whatever both sent runs, in the order it was sent (published after commit).
        while drain_tasks():
            pass

        subscription.refresh_from_db()
        customer.refresh_from_db()
        states = list(
            Suspension.objects.for_partner(partner)
            .filter(subscription=subscription)
            .values_list("state", flat=True)
        )
        assert subscription.status == Subscription.Status.ACTIVE, states
        assert customer.status == Customer.Status.ACTIVE, states
        assert not set(states) & set(Suspension.OPEN_STATES), states
        status_at_microsoft = partner_center.status_of(
            str(customer.microsoft_tenant_id), subscription.partner_center_id
        )
        assert status_at_microsoft == "active", states
        outcomes["suspended then reinstated" if states else "not suspended"] += 1
    print(f"{ROUNDS} rounds: {outcomes}; drill took {time.monotonic() - started:.1f}s")
