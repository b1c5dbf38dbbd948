"""The transactional outbox against the real PostgreSQL and Redis: the task row lives and dies
with the change, is published after commit exactly once, long ETAs wait in PostgreSQL, the
relay sends what the broker missed, and readiness reports an old backlog."""

import datetime

import pytest
import time_machine
from django.db import transaction
from django.test import Client, TestCase
from django.utils import timezone

from csp_portal import outbox
from csp_portal.outbox.models import OutboxMessage
from csp_portal.outbox.services import broker_max_eta, readiness_check
from tests.tasks import drain_tasks, purge_tasks

TASK = "billing.tasks.reminder_email"
pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _empty_queue():
    purge_tasks()
    yield
    purge_tasks()


def test_the_task_is_published_after_commit_and_marked_sent():
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = outbox.enqueue(TASK, partner_id=1, reminder_id=2)
            assert drain_tasks(run=False) == []  # nothing leaves before the commit

    assert len(callbacks) == 1
    assert drain_tasks(run=False) == [(TASK, {"partner_id": 1, "reminder_id": 2})]
    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.attempts == 1
    assert outbox.relay_pending() == 0  # already sent: the relay leaves it alone
    assert drain_tasks(run=False) == []


def test_a_rolled_back_change_leaves_no_task():
    with TestCase.captureOnCommitCallbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                outbox.enqueue(TASK, partner_id=1, reminder_id=2)
                raise RuntimeError("the change failed")

    assert OutboxMessage.objects.count() == 0
    assert drain_tasks(run=False) == []


def test_the_relay_publishes_what_was_never_published_once():
    # Callbacks discarded: as if the process died between the commit and the publish.
    with TestCase.captureOnCommitCallbacks(execute=False):
        for reminder_id in range(5):
            outbox.enqueue(TASK, partner_id=1, reminder_id=reminder_id)

    assert outbox.relay_pending(batch_size=2) == 5
    assert outbox.relay_pending() == 0
    sent = drain_tasks(run=False)
    assert [kwargs["reminder_id"] for _name, kwargs in sent] == [0, 1, 2, 3, 4]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_an_eta_beyond_what_the_broker_holds_safely_waits_in_postgresql():
    start = timezone.now()
    later = start + broker_max_eta() + datetime.timedelta(hours=3)
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        message = outbox.enqueue(TASK, eta=later, partner_id=1, reminder_id=9)

    assert callbacks == []  # not handed to the broker now
    assert drain_tasks(run=False) == []
    with time_machine.travel(later - datetime.timedelta(minutes=1)):
        assert outbox.relay_pending() == 0
    with time_machine.travel(later + datetime.timedelta(seconds=5)):
        assert outbox.relay_pending() == 1
        assert outbox.relay_pending() == 0
    assert drain_tasks(run=False) == [(TASK, {"partner_id": 1, "reminder_id": 9})]
    message.refresh_from_db()
    assert message.sent_at is not None


def test_a_short_countdown_goes_to_the_broker_with_its_eta():
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        outbox.enqueue(TASK, countdown=30, partner_id=1, reminder_id=3)

    assert len(callbacks) == 1
    assert OutboxMessage.objects.get().sent_at is not None


def test_readiness_reports_a_backlog_older_than_the_limit(settings):
    settings.OUTBOX_BACKLOG_MINUTES = 10
    with TestCase.captureOnCommitCallbacks(execute=False):
        outbox.enqueue(TASK, partner_id=1, reminder_id=1)
        outbox.enqueue(TASK, partner_id=1, reminder_id=2)
    assert readiness_check() == "ok"

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        assert readiness_check() == "backlog: 2 due for more than 10 min"
        response = Client().get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["outbox"] == "backlog: 2 due for more than 10 min"
        outbox.relay_pending()
        assert readiness_check() == "ok"
