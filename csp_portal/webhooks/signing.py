"""How deliveries are signed, and how a receiver checks them.

Every delivery is a POST with a JSON body and these headers:

- ``X-CSP-Event``: the event, e.g. ``ticket.created``;
- ``X-CSP-Delivery``: the delivery's id (a UUID; the same on a retry or redelivery, so a
  receiver can ignore a delivery it has already processed);
- ``X-CSP-Signature``: ``t=<unix seconds>,v1=<hex signature>``.

The signature is the hex HMAC-SHA256, keyed with the endpoint's secret (the whole string
shown once when the endpoint was created, ``whsec_…``, as UTF-8 bytes), of the ASCII timestamp,
a full stop, and the raw request body bytes exactly as received::

    signed = f"{t}.".encode() + body
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()

A receiver recomputes ``v1`` from the body as received (before parsing the JSON), compares
it in constant time, and rejects a timestamp older than a few minutes (replays). `verify`
below is a complete receiver-side check.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-CSP-Signature"
EVENT_HEADER = "X-CSP-Event"
DELIVERY_HEADER = "X-CSP-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether `header` (the X-CSP-Signature value) signs `body` with `secret`, recently."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item and item.strip())
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
