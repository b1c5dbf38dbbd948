"""A small Partner Center REST client: read a subscription and set its status (suspend and
reactivate), in the shapes of Microsoft's published samples.

- The base URL comes from `settings.PARTNER_CENTER_BASE_URL` (tests point it at a local
  server that speaks the same shapes).
- `MS-RequestId` is the caller's idempotency key and is reused for every retry of one call;
  `MS-CorrelationId` is new per HTTP request.
- 429 is retried after `Retry-After` seconds, 5xx and connection errors with exponential
  backoff; other errors raise `PartnerCenterError` with Microsoft's code and description.
"""

from __future__ import annotations

import json
import urllib.error
from dataclasses import dataclass, field

from django.conf import settings

from csp_portal import microsoft_http


class PartnerCenterError(Exception):
    def __init__(self, status: int, code: str = "", description: str = ""):
        self.status = status
        self.code = str(code or "")
        self.description = description
        super().__init__(f"Partner Center answered {status} {self.code}: {description}".strip())

    @property
    def is_transient(self) -> bool:
        return self.status == 429 or self.status >= 500 or self.status == 0


def _get(data: dict, name: str, default=None):
    """Responses are camelCase, the published request samples PascalCase: accept both."""
    for key in (name, name[:1].upper() + name[1:]):
        if key in data:
            return data[key]
    return default


@dataclass
class PartnerCenterClient:
    base_url: str = field(default_factory=lambda: settings.PARTNER_CENTER_BASE_URL)
    token: str = field(default_factory=lambda: settings.PARTNER_CENTER_ACCESS_TOKEN)
    max_attempts: int = field(default_factory=lambda: settings.PARTNER_CENTER_MAX_ATTEMPTS)
    backoff_seconds: float = field(default_factory=lambda: settings.PARTNER_CENTER_BACKOFF_SECONDS)
    max_wait_seconds: float = field(
        default_factory=lambda: settings.PARTNER_CENTER_MAX_WAIT_SECONDS
    )
    timeout: float = field(
        default_factory=lambda: getattr(settings, "PARTNER_CENTER_TIMEOUT_SECONDS", 20.0)
    )
    waits: list[float] = field(default_factory=list)

    # -- subscriptions ----------------------------------------------------------------------

    def subscription_get(self, *, customer_tenant_id: str, subscription_id: str, request_id):
        return self._call(
            "GET",
            f"/v1/customers/{customer_tenant_id}/subscriptions/{subscription_id}",
            request_id=request_id,
        )

    def subscription_set_status(
        self, *, customer_tenant_id: str, subscription_id: str, status: str, request_id
    ) -> dict:
        """PATCH the full subscription with `Status` changed, `If-Match` its etag. A
        subscription already in `status` is left alone (the call is idempotent)."""
        current = self.subscription_get(
            customer_tenant_id=customer_tenant_id,
            subscription_id=subscription_id,
            request_id=request_id,
        )
        if str(_get(current, "status", "")).lower() == status:
            return current
        attributes = _get(current, "attributes", {}) or {}
        etag = _get(attributes, "etag", "")
        body = {key[:1].upper() + key[1:]: value for key, value in current.items()}
        body.pop("Links", None)
        body["Status"] = status
        body["Attributes"] = {"Etag": etag, "ObjectType": _get(attributes, "objectType", "")}
        return self._call(
            "PATCH",
            f"/v1/customers/{customer_tenant_id}/subscriptions/{subscription_id}",
            body=body,
            request_id=request_id,
            headers={"If-Match": etag},
        )

    # -- transport --------------------------------------------------------------------------

    def _call(self, method, path, *, request_id, body=None, headers=None) -> dict:
        extra = {"Content-Type": "application/json", "X-Locale": "en-US", **(headers or {})}
        if self.token:
            extra["Authorization"] = f"Bearer {self.token}"
        return microsoft_http.send(
            method,
            self.base_url.rstrip("/") + path,
            request_id=request_id,
            data=json.dumps(body).encode() if body is not None else None,
            headers=extra,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            max_wait_seconds=self.max_wait_seconds,
            http_error=self._error,
            unreachable=lambda error: PartnerCenterError(0, "connection", str(error)),
            waits=self.waits,
        ).body

    @staticmethod
    def _error(error: urllib.error.HTTPError) -> PartnerCenterError:
        payload = microsoft_http.error_payload(error)
        return PartnerCenterError(
            error.code,
            _get(payload, "code", ""),
            _get(payload, "description", "") or error.reason or "",
        )
