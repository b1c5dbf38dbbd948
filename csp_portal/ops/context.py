"""What every log record, audit event and metric of the current unit of work is tagged with:
the request id (or Celery task id), the partner and the client's address.

Context variables, so they follow the request through gunicorn's threads and each Celery
task, and are reset when the unit of work ends."""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass
class WorkContext:
    request_id: str = ""
    task_id: str = ""
    task_name: str = ""
    ip: str | None = None
    partner_id: int | None = None
    request: object | None = None

    def current_partner_id(self) -> int | None:
        """The request's partner, once PartnerMiddleware has resolved it."""
        if self.partner_id is not None:
            return self.partner_id
        partner = getattr(self.request, "partner", None)
        return getattr(partner, "pk", None)


_current: ContextVar[WorkContext | None] = ContextVar("csp_work_context", default=None)


def current() -> WorkContext:
    return _current.get() or WorkContext()


@contextmanager
def bind(context: WorkContext):
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def start(context: WorkContext):
    """Bind without a block (Celery's prerun/postrun signals); returns the reset token."""
    return _current.set(context)


def end(token) -> None:
    try:
        _current.reset(token)
    except ValueError:
        # A token from another context (a signal handler run elsewhere): clear instead.
        _current.set(None)


def request_id_from(header_value: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, otherwise a fresh one."""
    if header_value and _REQUEST_ID.match(header_value):
        return header_value
    return uuid.uuid4().hex


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or — behind TRUSTED_PROXY_COUNT proxies (the load
    balancer) — the address those proxies appended to X-Forwarded-For."""
    from django.conf import settings

    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or None
