"""Structured logs: every record carries the request id (or Celery task id) and the partner.

`ContextFilter` (on the console handler, so it sees every record that propagates) adds
`request_id`, `task_id` and `partner_id`; `JsonFormatter` writes one JSON object a line, which
is what log shippers read. LOG_FORMAT chooses json (production default) or plain.
Imported by logging configuration before Django's apps load: no model imports here."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from . import context

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_CONTEXT = ("request_id", "task_id", "task_name", "partner_id")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        work = context.current()
        request = getattr(record, "request", None)
        if not work.request_id and hasattr(request, "request_id"):
            # django.request logs a response after the middleware chain has returned.
            work = context.WorkContext(request_id=request.request_id, request=request)
        if not getattr(record, "request_id", None):
            record.request_id = work.request_id or "-"
        if not getattr(record, "task_id", None):
            record.task_id = work.task_id or "-"
        if not getattr(record, "task_name", None):
            record.task_name = work.task_name or "-"
        if getattr(record, "partner_id", None) is None:
            partner_id = work.current_partner_id()
            record.partner_id = partner_id if partner_id is not None else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT:
            value = getattr(record, name, "-")
            if value not in ("-", None, ""):
                entry[name] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _CONTEXT and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
