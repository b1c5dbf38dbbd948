"""The client for Microsoft's support APIs, in the shapes of Microsoft's published samples
(../shared/partner-center/): the Azure Support REST API (support tickets on behalf of a CSP
customer, their communications, services and problem classifications) and Partner Center's
service requests (GET/PATCH by id; customers' lists).

- Tokens come from the Microsoft identity platform (client credentials of the partner's app,
  from settings — never from the database) and are cached in Redis until shortly before they
  expire.
- Every call sends `MS-RequestId` — the caller's idempotency key, the same on every retry of
  one logical call — and a new `MS-CorrelationId`.
- 429 is retried after `Retry-After` seconds (capped), 5xx, timeouts and refused connections
  with exponential backoff, up to `MICROSOFT_MAX_ATTEMPTS`; anything else raises at once.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from csp_portal import microsoft_http
from csp_portal.microsoft_http import Response

AZURE_API_VERSION = "2020-04-01"
AZURE_SCOPE = "https://management.azure.com/.default"
PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"


class MicrosoftError(Exception):
    """A call that failed. `status` 0 means no HTTP answer (timeout, refused)."""

    def __init__(self, status: int, code: str = "", message: str = ""):
        self.status = status
        self.code = str(code or "")
        self.message = message
        super().__init__(f"Microsoft answered {status or 'nothing'} {self.code}: {message}".strip())

    @property
    def is_transient(self) -> bool:
        return self.status in (0, 429) or self.status >= 500


def app_credentials(partner) -> dict:
    """The partner's app registration (tenant_id, client_id, client_secret), from settings:
    MICROSOFT_PARTNER_APPS maps a partner's slug (or "*") to it."""
    apps = settings.MICROSOFT_PARTNER_APPS
    credentials = apps.get(partner.slug) or apps.get("*")
    if not credentials:
        raise MicrosoftError(
            0, "configuration", f"No Microsoft app credentials for partner {partner.slug}"
        )
    return credentials


def _pick(data: dict, name: str, default=None):
    """Responses are camelCase, the published request samples PascalCase: accept both."""
    for key in (name, name[:1].upper() + name[1:]):
        if key in data:
            return data[key]
    return default


@dataclass
class MicrosoftClient:
    partner: object
    sleep: Callable[[float], None] = time.sleep
    max_attempts: int = field(default_factory=lambda: settings.MICROSOFT_MAX_ATTEMPTS)
    backoff_seconds: float = field(default_factory=lambda: settings.MICROSOFT_BACKOFF_SECONDS)
    max_wait_seconds: float = field(default_factory=lambda: settings.MICROSOFT_MAX_WAIT_SECONDS)
    timeout: float = field(default_factory=lambda: settings.MICROSOFT_TIMEOUT_SECONDS)
    waits: list[float] = field(default_factory=list)

    # -- tokens -----------------------------------------------------------------------------

    def token(self, *, scope: str, tenant_id: str | None = None) -> str:
        credentials = app_credentials(self.partner)
        tenant = tenant_id or credentials["tenant_id"]
        key = f"escalation:token:{self.partner.pk}:{tenant}:{scope}"
        cached = cache.get(key)
        if cached:
            return cached
        url = f"{settings.MICROSOFT_LOGIN_BASE_URL.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "scope": scope,
            }
        ).encode()
        answer = self._send(
            "POST",
            url,
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            request_id=uuid.uuid4(),
        )
        token = answer.body["access_token"]
        cache.set(key, token, max(int(answer.body.get("expires_in", 3600)) - 120, 60))
        return token

    # -- Azure support tickets --------------------------------------------------------------

    def _azure_headers(self, customer_tenant_id: str) -> dict:
        """On behalf of a CSP customer: the primary token from the customer's tenant, the
        partner's own token in `x-ms-authorization-auxiliary`."""
        return {
            "Authorization": f"Bearer {self.token(scope=AZURE_SCOPE, tenant_id=customer_tenant_id)}",
            "x-ms-authorization-auxiliary": f"Bearer {self.token(scope=AZURE_SCOPE)}",
        }

    def _azure_url(self, path: str) -> str:
        base = settings.AZURE_MANAGEMENT_BASE_URL.rstrip("/")
        return f"{base}{path}?api-version={AZURE_API_VERSION}"

    def _ticket_path(self, subscription_id: str, name: str) -> str:
        return f"/subscriptions/{subscription_id}/providers/Microsoft.Support/supportTickets/{name}"

    def azure_services(self, *, customer_tenant_id: str, request_id) -> list[dict]:
        return self._azure(
            "GET", "/providers/Microsoft.Support/services", customer_tenant_id, request_id
        ).body.get("value", [])

    def azure_problem_classifications(
        self, *, service_id: str, customer_tenant_id: str, request_id
    ) -> list[dict]:
        path = f"{service_id.rstrip('/')}/problemClassifications"
        return self._azure("GET", path, customer_tenant_id, request_id).body.get("value", [])

    def azure_ticket_get(
        self, *, subscription_id: str, name: str, customer_tenant_id: str, request_id
    ) -> dict | None:
        try:
            return self._azure(
                "GET", self._ticket_path(subscription_id, name), customer_tenant_id, request_id
            ).body
        except MicrosoftError as error:
            if error.status == 404:
                return None
            raise

    def azure_ticket_create(
        self,
        *,
        subscription_id: str,
        name: str,
        properties: dict,
        customer_tenant_id: str,
        request_id,
    ) -> dict:
        """PUT the ticket, follow the 202's `azure-asyncoperation` until it succeeds, then
        read the ticket (with its `supportTicketId`)."""
        answer = self._azure(
            "PUT",
            self._ticket_path(subscription_id, name),
            customer_tenant_id,
            request_id,
            body={"properties": properties},
        )
        if answer.status == 202:
            self._follow_operation(answer, customer_tenant_id, request_id)
        ticket = self.azure_ticket_get(
            subscription_id=subscription_id,
            name=name,
            customer_tenant_id=customer_tenant_id,
            request_id=request_id,
        )
        if ticket is None:
            raise MicrosoftError(404, "NotFound", "The support ticket was not found after creation")
        return ticket

    def _follow_operation(self, answer: Response, customer_tenant_id: str, request_id) -> None:
        url = answer.headers.get("azure-asyncoperation") or answer.headers.get("location")
        if not url:
            return
        headers = self._azure_headers(customer_tenant_id)
        for poll in range(settings.MICROSOFT_OPERATION_POLLS):
            status = self._send("GET", url, headers=headers, request_id=request_id).body
            state = str(status.get("status", "Succeeded")).lower()
            if state == "succeeded":
                return
            if state in {"failed", "canceled", "cancelled"}:
                error = status.get("error") or {}
                raise MicrosoftError(400, error.get("code", state), error.get("message", ""))
            self.sleep(min(self.backoff_seconds * (poll + 1), self.max_wait_seconds))
        raise MicrosoftError(0, "operation", "The support ticket is still being created")

    def azure_communications(
        self, *, subscription_id: str, name: str, customer_tenant_id: str, request_id
    ) -> list[dict]:
        path = self._ticket_path(subscription_id, name) + "/communications"
        return self._azure("GET", path, customer_tenant_id, request_id).body.get("value", [])

    def azure_communication_create(
        self,
        *,
        subscription_id: str,
        name: str,
        communication_name: str,
        subject: str,
        body: str,
        sender: str,
        customer_tenant_id: str,
        request_id,
    ) -> None:
        path = self._ticket_path(subscription_id, name) + f"/communications/{communication_name}"
        answer = self._azure(
            "PUT",
            path,
            customer_tenant_id,
            request_id,
            body={"properties": {"subject": subject, "body": body, "sender": sender}},
        )
        if answer.status == 202:
            self._follow_operation(answer, customer_tenant_id, request_id)

    def _azure(self, method, path, customer_tenant_id, request_id, body=None) -> Response:
        return self._send(
            method,
            self._azure_url(path),
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **self._azure_headers(customer_tenant_id)},
            request_id=request_id,
        )

    # -- Partner Center service requests ----------------------------------------------------

    def _partner_center(self, method, path, request_id, body=None) -> Response:
        return self._send(
            method,
            settings.PARTNER_CENTER_BASE_URL.rstrip("/") + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token(scope=PARTNER_CENTER_SCOPE)}",
                "X-Locale": "en-US",
            },
            request_id=request_id,
        )

    def service_request_get(self, *, case_number: str, request_id) -> dict:
        return self._partner_center("GET", f"/v1/servicerequests/{case_number}", request_id).body

    def service_request_add_note(
        self, *, case_number: str, text: str, author: str, request_id
    ) -> dict:
        """PATCH with `NewNote`, in the shape of the published update sample."""
        body = {
            "Id": None,
            "Title": None,
            "Description": None,
            "Severity": "unknown",
            "SupportTopicId": None,
            "SupportTopicName": None,
            "Status": "none",
            "Organization": None,
            "PrimaryContact": None,
            "LastUpdatedBy": None,
            "ProductName": None,
            "ProductId": None,
            "CreatedDate": "0001-01-01T00:00:00",
            "LastModifiedDate": "0001-01-01T00:00:00",
            "LastClosedDate": "0001-01-01T00:00:00",
            "NewNote": {"CreatedByName": author, "CreatedDate": None, "Text": text},
            "Notes": None,
            "CountryCode": None,
            "FileLinks": None,
            "Attributes": {"ObjectType": "ServiceRequest"},
        }
        return self._partner_center(
            "PATCH", f"/v1/servicerequests/{case_number}", request_id, body=body
        ).body

    def customer_service_requests(self, *, customer_tenant_id: str, request_id) -> list[dict]:
        body = self._partner_center(
            "GET", f"/v1/customers/{customer_tenant_id}/servicerequests", request_id
        ).body
        return _pick(body, "items", []) or []

    # -- transport --------------------------------------------------------------------------

    def _send(self, method, url, *, request_id, data=None, headers=None) -> Response:
        return microsoft_http.send(
            method,
            url,
            request_id=request_id,
            data=data,
            headers=headers or {},
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            max_wait_seconds=self.max_wait_seconds,
            http_error=self._error,
            unreachable=lambda error: MicrosoftError(0, "unreachable", str(error)),
            waits=self.waits,
            sleep=self.sleep,
        )

    @staticmethod
    def _error(error: urllib.error.HTTPError) -> MicrosoftError:
        payload = microsoft_http.error_payload(error)
        # Azure: {"error": {"code", "message"}}; Partner Center: {"code", "description"};
        # throttling: {"statusCode", "message"}.
        inner = payload.get("error") if isinstance(payload.get("error"), dict) else payload
        return MicrosoftError(
            error.code,
            _pick(inner, "code", "") or "",
            _pick(inner, "message", "") or _pick(inner, "description", "") or str(error.reason),
        )
