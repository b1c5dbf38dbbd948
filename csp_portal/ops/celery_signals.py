"""Celery: each task runs with its task id and partner id in the log context, and its runs,
failures and retries are counted."""

from __future__ import annotations

import time

from celery import signals

from . import context, metrics

_started: dict[str, tuple[float, object]] = {}


def _partner_id(kwargs) -> int | None:
    value = (kwargs or {}).get("partner_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _prerun(sender=None, task_id=None, task=None, kwargs=None, **extra):
    token = context.start(
        context.WorkContext(
            request_id=task_id or "",
            task_id=task_id or "",
            task_name=getattr(task, "name", ""),
            partner_id=_partner_id(kwargs),
        )
    )
    _started[task_id] = (time.perf_counter(), token)


def _postrun(sender=None, task_id=None, task=None, state=None, **extra):
    started, token = _started.pop(task_id, (None, None))
    seconds = time.perf_counter() - started if started is not None else None
    metrics.task_finished(
        task=getattr(task, "name", "?"), state=state or "UNKNOWN", seconds=seconds
    )
    if token is not None:
        context.end(token)


def _failure(sender=None, **extra):
    metrics.task_failed(task=getattr(sender, "name", "?"))


def _retry(sender=None, **extra):
    metrics.task_retried(task=getattr(sender, "name", "?"))


def connect() -> None:
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="csp-ops-prerun")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="csp-ops-postrun")
    signals.task_failure.connect(_failure, weak=False, dispatch_uid="csp-ops-failure")
    signals.task_retry.connect(_retry, weak=False, dispatch_uid="csp-ops-retry")
