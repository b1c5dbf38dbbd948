"""One error format for every API error: RFC 9457 problem details."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from csp_portal.resilience import is_database_outage, retry_after_seconds

logger = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"


def _flatten(detail, prefix=""):
    """{"field": ["message"]} for every field, nested ones as `a.b` / `items.0.c`."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    if (
        isinstance(detail, list)
        and detail
        and not isinstance(detail[0], (str, exceptions.ErrorDetail))
    ):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}{index}."))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix.rstrip(".") or "non_field_errors": [str(message) for message in messages]}


def problem_response(status_code: int, title: str, detail: str = "", errors=None, headers=None):
    body = {"type": "about:blank", "title": title, "status": status_code}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    # Nothing an erroring request wrote may be kept.
    if connection.in_atomic_block:
        transaction.set_rollback(True)
    if response is None and is_database_outage(exc):
        return problem_response(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Service unavailable",
            "The service is briefly unavailable; retry after the number of seconds in Retry-After.",
            headers={"Retry-After": str(retry_after_seconds())},
        )
    if response is None:
        logger.exception("API error", exc_info=exc)
        return problem_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "Server error")
    headers = {
        key: value
        for key, value in response.items()
        if key in {"Retry-After", "WWW-Authenticate", "Allow"}
    }
    if isinstance(exc, exceptions.ValidationError):
        return problem_response(
            response.status_code,
            "Invalid request",
            "One or more fields are invalid; see errors.",
            errors=_flatten(exc.detail),
            headers=headers,
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else ""
    title = response.status_text if hasattr(response, "status_text") else "Error"
    return problem_response(response.status_code, str(title), str(detail), headers=headers)
