"""Web workers freeze their long-lived objects out of the garbage collector: at start, and again
once warmed up, after a response has been sent."""

import gc

import pytest
from django.core.signals import request_finished

from csp_portal.ops import gc_tuning


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    receivers_before = list(request_finished.receivers)
    yield
    gc.unfreeze()
    request_finished.receivers[:] = receivers_before
    request_finished.sender_receivers_cache.clear()


def test_loading_the_application_freezes_what_is_alive(unfrozen, settings):
    settings.GC_FREEZE_AFTER_REQUESTS = 0
    assert gc.get_freeze_count() == 0

    gc_tuning.install()

    assert gc.get_freeze_count() > 1000  # the modules, classes and functions loaded so far
    assert not any(isinstance(r[1], gc_tuning.WarmUpFreeze) for r in request_finished.receivers)


def collected(thing) -> bool:
    """Whether the collector still walks `thing` (a frozen object is in no generation)."""
    return any(o is thing for o in gc.get_objects())


def test_the_warm_up_freeze_runs_once_after_the_nth_finished_request(
    unfrozen, settings, client, db
):
    settings.GC_FREEZE_AFTER_REQUESTS = 3
    gc_tuning.install()
    gc.unfreeze()  # as if only the warm-up freeze were to come
    kept = [object()]  # a long-lived object made during the warm-up

    client.get("/healthz")
    client.get("/healthz")
    assert gc.get_freeze_count() == 0 and collected(kept)
    client.get("/healthz")
    assert gc.get_freeze_count() > 0 and not collected(kept)

    gc.unfreeze()
    client.get("/healthz")
    assert gc.get_freeze_count() == 0  # once only: the receiver has disconnected itself
