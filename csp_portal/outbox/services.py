"""The transactional outbox.

`enqueue(task, **kwargs)` is what services call instead of
`transaction.on_commit(lambda: task.delay(**kwargs))`:

1. it writes an `OutboxMessage` row in the caller's transaction, so the work is recorded
   exactly when the change is (a rolled-back change leaves no task; a committed one cannot
   lose its task, whatever happens to the broker or the process afterwards);
2. after commit it tries to publish at once (`publish`), in its own short transaction that
   locks the row, sends it and marks it sent. A broker error is recorded on the row and
   swallowed: the page or task that asked carries on, and the row stays pending;
3. `relay_pending()` (the `outbox_relay` beat task, every few seconds) publishes pending rows
   that are due, in batches locked with `FOR UPDATE SKIP LOCKED`, so several relays and the
   immediate publish never send one row twice.

`enqueue_many(calls)` is for work that asks for many tasks at once (the collections sweep's
reminders and suspensions): one INSERT for all the rows and, after commit, one broker message
(`outbox_publish`) that has a worker publish them, instead of a publish per row in the caller.
The rows are ordinary outbox rows: what that message does not publish (the broker was down,
the worker died) the relay does.

Delivery is at least once: a crash between the broker accepting a message and the row being
marked sent sends it again later. Every task is idempotent (the house rule), so that is safe.

ETAs: Redis redelivers a message that a worker has held unacknowledged for longer than the
broker's visibility timeout, and a worker holds an ETA message unacknowledged until it is due —
so an ETA beyond the visibility timeout would run twice. Rows due later than
`OUTBOX_BROKER_MAX_ETA_SECONDS` (half the visibility timeout) are therefore not handed to the
broker at once: they wait here and the relay publishes them when they are due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger("csp_portal.outbox")

RELAY_BATCH_SIZE = 100
PUBLISH_TASK = "csp_portal.outbox.tasks.outbox_publish"


def broker_max_eta() -> timedelta:
    """The furthest ETA handed to the broker directly."""
    seconds = getattr(settings, "OUTBOX_BROKER_MAX_ETA_SECONDS", None)
    if seconds is None:
        visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
        seconds = visibility / 2
    return timedelta(seconds=seconds)


def _task_name(task) -> str:
    return task if isinstance(task, str) else task.name


def enqueue(
    task, *, countdown: float | None = None, eta: datetime | None = None, **kwargs
) -> OutboxMessage:
    """Record `task(**kwargs)` in the caller's transaction and publish it after commit.

    `task` is a Celery task or its name; `kwargs` must be JSON (ids, ISO dates, strings).
    `countdown` (seconds) or `eta` delay the run."""
    now = timezone.now()
    if eta is not None:
        available_at = eta
    elif countdown:
        available_at = now + timedelta(seconds=countdown)
    else:
        available_at = now
    message = OutboxMessage.objects.create(
        task=_task_name(task), kwargs=kwargs, available_at=available_at
    )
    if available_at - now <= broker_max_eta():
        message_id = message.pk
        transaction.on_commit(lambda: publish(message_id), robust=True)
    return message


def enqueue_many(calls: Iterable[tuple[object, dict]]) -> list[int]:
    """Record several tasks, each `(task or task name, JSON kwargs)` to run now, in the caller's
    transaction with one INSERT; after commit one broker message has a worker publish them all
    (`publish_many`). Returns the rows' ids."""
    now = timezone.now()
    messages = [
        OutboxMessage(task=_task_name(task), kwargs=kwargs, available_at=now)
        for task, kwargs in calls
    ]
    if not messages:
        return []
    OutboxMessage.objects.bulk_create(messages)
    message_ids = [message.pk for message in messages]
    transaction.on_commit(lambda: _hand_to_worker(message_ids), robust=True)
    return message_ids


def _hand_to_worker(message_ids: list[int]) -> None:
    """Ask a worker to publish these rows. Not itself an outbox row: if the broker refuses it,
    the rows stay pending and the relay publishes them."""
    from csp_portal.celery import app

    try:
        app.send_task(PUBLISH_TASK, kwargs={"message_ids": message_ids}, retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the rows pending
        logger.warning(
            "outbox: %s rows not handed to a worker yet (%s); the relay will",
            len(message_ids),
            error,
        )


def _send(message: OutboxMessage, now: datetime) -> None:
    from csp_portal.celery import app

    eta = message.available_at if message.available_at > now else None
    # No publish retries here: with the broker down the caller must not wait; the row stays
    # pending and the relay sends it later.
    app.send_task(message.task, kwargs=message.kwargs, eta=eta, retry=False)


def _record_failure(message_id: int, error: Exception) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
    )


def publish(message_id: int) -> bool:
    """Send one pending row now, if no relay holds it. True when this call sent it."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        try:
            _send(message, now)
        except Exception as error:  # noqa: BLE001 - any broker failure leaves the row pending
            logger.warning("outbox: %s not published yet (%s); the relay will", message, error)
            _record_failure(message.pk, error)
            return False
        OutboxMessage.objects.filter(pk=message.pk).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        return True


def _send_locked(batch: list[OutboxMessage], now: datetime) -> tuple[int, Exception | None]:
    """Send rows the caller holds locked, in order, and mark the sent ones in one UPDATE; stop
    at the first broker error (recorded on its row). Returns (sent, the error or None)."""
    sent: list[int] = []
    failed = None
    for message in batch:
        try:
            _send(message, now)
        except Exception as error:  # noqa: BLE001 - any broker failure leaves the row pending
            failed = error
            _record_failure(message.pk, error)
            break
        sent.append(message.pk)
    if sent:
        OutboxMessage.objects.filter(pk__in=sent).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
    return len(sent), failed


def publish_many(message_ids: list[int]) -> int:
    """Send these rows now, those still pending and not held by a relay, in one transaction
    (what `enqueue_many` hands to a worker). Returns how many were sent."""
    now = timezone.now()
    with transaction.atomic():
        batch = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=message_ids, sent_at__isnull=True)
            .order_by("pk")
        )
        sent, failed = _send_locked(batch, now)
    if failed is not None:
        logger.warning("outbox: published %s, then broker error %s; the relay will", sent, failed)
    return sent


def relay_pending(*, batch_size: int = RELAY_BATCH_SIZE, max_batches: int | None = None) -> int:
    """Publish due pending rows, oldest first, a batch per transaction; stop at the first
    broker error (the broker is down: the next run tries again). Returns how many were sent."""
    sent_total = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        now = timezone.now()
        with transaction.atomic():
            batch = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, available_at__lte=now)
                .order_by("available_at", "pk")[:batch_size]
            )
            if not batch:
                break
            sent, failed = _send_locked(batch, now)
            sent_total += sent
        if failed is not None:
            logger.warning("outbox relay stopped after %s: broker error %s", sent_total, failed)
            break
        if len(batch) < batch_size:
            break
    return sent_total


def pending_backlog(*, older_than: timedelta) -> int:
    """Pending rows that were due more than `older_than` ago."""
    cutoff = timezone.now() - older_than
    return OutboxMessage.objects.filter(sent_at__isnull=True, available_at__lt=cutoff).count()


def readiness_check() -> str:
    minutes = getattr(settings, "OUTBOX_BACKLOG_MINUTES", 10)
    count = pending_backlog(older_than=timedelta(minutes=minutes))
    if count:
        return f"backlog: {count} due for more than {minutes} min"
    return "ok"


def prune_sent(*, keep: timedelta, batch_size: int = 5000) -> int:
    """Delete rows sent before `keep` ago, in bounded batches."""
    cutoff = timezone.now() - keep
    deleted = 0
    while True:
        ids = list(
            OutboxMessage.objects.filter(sent_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
