"""The one transport for calls to Microsoft (Partner Center, Azure management, sign-in):
JSON over HTTPS with `MS-RequestId` reused on every retry (the idempotency key) and a fresh
`MS-CorrelationId` per attempt, retries with backoff on 429 (honouring `Retry-After`), 5xx and
network errors, up to a ceiling. Billing's Partner Center client and escalation's Microsoft
client shape their own requests and errors on top of it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    headers: dict
    body: dict


def retry_wait(
    retry_after, attempt: int, *, backoff_seconds: float, max_wait_seconds: float
) -> float:
    """`Retry-After` when Microsoft gives one, else doubling from `backoff_seconds`."""
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), max_wait_seconds)
        except ValueError:
            pass
    return min(backoff_seconds * 2 ** (attempt - 1), max_wait_seconds)


def send(
    method: str,
    url: str,
    *,
    request_id,
    data: bytes | None,
    headers: dict,
    timeout: float,
    max_attempts: int,
    backoff_seconds: float,
    max_wait_seconds: float,
    http_error: Callable[[urllib.error.HTTPError], Exception],
    unreachable: Callable[[Exception], Exception],
    waits: list[float],
    sleep: Callable[[float], None] = time.sleep,
) -> Response:
    """Send until a 2xx answer; `http_error` turns an HTTP error into the caller's exception
    (with `is_transient`), `unreachable` a network failure. Each wait is appended to `waits`."""
    attempt = 0
    while True:
        attempt += 1
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Accept", "application/json")
        request.add_header("MS-RequestId", str(request_id))
        request.add_header("MS-CorrelationId", str(uuid.uuid4()))
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                raw = response.read()
                return Response(
                    response.status,
                    {key.lower(): value for key, value in response.headers.items()},
                    json.loads(raw.decode("utf-8-sig")) if raw.strip() else {},
                )
        except urllib.error.HTTPError as error:
            failure = http_error(error)
            if not failure.is_transient or attempt >= max_attempts:
                raise failure from None
            retry_after = error.headers.get("Retry-After")
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt >= max_attempts:
                raise unreachable(error) from None
            retry_after = None
        wait = retry_wait(
            retry_after, attempt, backoff_seconds=backoff_seconds, max_wait_seconds=max_wait_seconds
        )
        waits.append(wait)
        sleep(wait)


def error_payload(error: urllib.error.HTTPError) -> dict:
    """The JSON body of an error answer, or {}."""
    try:
        payload = json.loads(error.read().decode("utf-8-sig") or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}
