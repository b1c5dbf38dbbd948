"""Garbage collection in the web workers: keep the long-lived objects out of the collector.

A web worker holds some 150,000 long-lived container objects (modules, classes, compiled
templates, URL patterns, translation catalogues). CPython's cyclic collector walks all of them
in each full collection, which took 90 ms in the middle of an unlucky request: with four
workers on two cores, that request and the ones queued behind it answered in hundreds of
milliseconds. `gc.freeze()` moves the objects alive at that moment into a permanent
generation the collector no longer walks (a full collection then takes about 15 ms).

The worker freezes twice: once when the application is loaded, and again once it has served
`GC_FREEZE_AFTER_REQUESTS` requests, when the lazily built objects (templates compiled by the
cached loader, the URL resolver, translation catalogues) exist too. The second freeze runs when
a response has been sent (Django's `request_finished`), so no request waits for it.
"""

from __future__ import annotations

import gc
import itertools

from django.conf import settings
from django.core.signals import request_finished


def freeze() -> None:
    """Collect what is garbage now, then exempt everything still alive from later collections."""
    gc.collect()
    gc.freeze()


class WarmUpFreeze:
    """Freezes once after the n-th finished request of this process (then disconnects)."""

    def __init__(self, after: int):
        self.after = after
        self._served = itertools.count(1)

    def __call__(self, **kwargs) -> None:
        if next(self._served) >= self.after:
            request_finished.disconnect(self)
            freeze()


def install() -> None:
    """Called by the WSGI module once the application is loaded (web workers only)."""
    after = settings.GC_FREEZE_AFTER_REQUESTS
    freeze()
    if after > 0:
        request_finished.connect(WarmUpFreeze(after), weak=False)
