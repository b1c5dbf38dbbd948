import pytest
from django.test import TestCase

from tests.billing.partner_center_stub import PartnerCenterStub
from tests.tasks import drain_tasks, purge_tasks


def run_tasks() -> list:
    """Run what was sent to the broker, and what those tasks send after their commits,
    until the queue is empty."""
    taken = []
    while True:
        with TestCase.captureOnCommitCallbacks(execute=True):
            batch = drain_tasks()
        if not batch:
            return taken
        taken += batch


@pytest.fixture(autouse=True)
def partner_center(settings):
    """Every billing test talks to a local Partner Center, never to the real one."""
    stub = PartnerCenterStub().start()
    settings.PARTNER_CENTER_BASE_URL = stub.base_url
    settings.PARTNER_CENTER_BACKOFF_SECONDS = 0.01
    settings.PARTNER_CENTER_MAX_WAIT_SECONDS = 0.05
    yield stub
    stub.stop()


@pytest.fixture
def empty_queue():
    purge_tasks()
    yield
    purge_tasks()
