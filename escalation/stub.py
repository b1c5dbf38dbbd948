"""A local stand-in for Microsoft's support APIs, speaking the shapes of Microsoft's
published samples (../shared/partner-center/): the portal cannot reach Microsoft from a
developer's machine or from the tests, so this small real HTTP server answers instead.

    python -m escalation.stub --port 8765

Serves, on one host:
- the identity platform's token endpoint: POST /{tenant}/oauth2/v2.0/token;
- the Azure Support API (api-version 2020-04-01): support tickets (PUT answers 202 with
  `azure-asyncoperation`; the operation; GET; PATCH status), their communications (list,
  PUT), services and problem classifications;
- Partner Center: GET/PATCH /v1/servicerequests/{id}, GET /v1/customers/{tenant}/
  servicerequests (and GET/PATCH of one), GET/PATCH /v1/customers/{tenant}/subscriptions/{id}
  (the PATCH in the shape of subscription.suspend.*.json: full subscription, If-Match etag).

Control endpoints (under /_stub/, JSON bodies) make it misbehave or play Microsoft's part:
- POST /_stub/faults {"status": 429|500|..., "count": n, "retry_after": s, "path": "substring"}
- POST /_stub/delay {"seconds": s, "count": n, "path": "substring"}
- POST /_stub/servicerequests {"id", "title", "customerTenantId", "status"} — a request an
  agent filed in Partner Center's web UI; PATCH /_stub/servicerequests/{id} {"status", "note"}
- POST /_stub/communications {"ticket": name, "subject", "body"} — Microsoft's engineer writes
- PATCH /_stub/supporttickets/{name} {"status": "Closed"}
- GET /_stub/state (counts, for tests); POST /_stub/reset
The same controls exist as methods (`stub.fail(...)`, `stub.slow(...)`) for in-process use.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API_VERSION = "2020-04-01"
SEVERITIES = {"minimal", "moderate", "critical", "highestcriticalimpact"}

# Services and their problem classifications (ids in the shape of the published samples).
SERVICES = {
    "virtual_machine_running_linux_service_guid": (
        "Virtual Machine running Linux",
        {
            "problemClassification_guid": "Connectivity / Cannot connect to virtual machine by using RDP or SSH"
        },
    ),
    "cddd3eb5-1830-b494-44fd-782f691479dc": (
        "Virtual Machine running Windows",
        {
            "0b5b3c0b-62bf-6b8a-6c6b-4d7a5a0c6c0e": "Cannot start or stop my VM",
            "1a6e8f2a-3c35-8b7d-2a1c-9e5f4c2b7d1a": "Cannot connect to my VM",
        },
    ),
    "06bfd9d3-516b-d5c6-5802-169c800dec89": (
        "Service and subscription limits (quotas)",
        {
            "e12e3d1d-7fa0-af33-c6d0-3c50df9658a3": "Compute-VM (cores-vCPUs) subscription limit increases"
        },
    ),
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag() -> str:
    return uuid.uuid4().hex


class State:
    """What Microsoft would hold, in memory."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.tickets: dict[str, dict] = {}  # name -> resource
            self.ticket_subscription: dict[str, str] = {}
            self.communications: dict[str, list[dict]] = {}
            self.operations: dict[str, dict] = {}
            self.service_requests: dict[str, dict] = {}
            self.service_request_customer: dict[str, str] = {}
            self.subscriptions: dict[tuple[str, str], dict] = {}
            self.faults: list[dict] = []
            self.delays: list[dict] = []
            self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers)
            self.tokens_issued = 0
            self.ticket_creates = 0
            self.next_ticket_number = 119120321001170
            self.removed_classifications: set[str] = set()


class Handler(BaseHTTPRequestHandler):
    server_version = "MicrosoftStub/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 — the base class's name
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    # -- plumbing ---------------------------------------------------------------------------

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        try:
            return json.loads(raw.decode("utf-8-sig"))
        except ValueError:
            return {"_invalid": True}

    def _send(self, status: int, body=None, headers=None):
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host}:{port}'}"

    def _take(self, queue: list[dict], path: str) -> dict | None:
        with self.state.lock:
            for item in queue:
                if item.get("path", "") in path and item["count"] > 0:
                    item["count"] -= 1
                    return item
        return None

    def _misbehave(self, path: str) -> bool:
        delay = self._take(self.state.delays, path)
        if delay:
            time.sleep(float(delay["seconds"]))
        fault = self._take(self.state.faults, path)
        if fault is None:
            return False
        status = int(fault["status"])
        if status == 429:
            retry_after = str(fault.get("retry_after", 1))
            self._send(
                429,
                {
                    "statusCode": 429,
                    "message": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
                },
                {"Retry-After": retry_after},
            )
        else:
            self._send(
                status,
                {"error": {"code": "InternalServerError", "message": "Something went wrong"}}
                if status >= 500
                else {"code": str(status), "description": "Injected failure"},
            )
        return True

    def _dispatch(self, method: str):
        url = urlparse(self.path)
        path = url.path
        query = parse_qs(url.query)
        body = self._body() if method in {"POST", "PUT", "PATCH"} else {}
        with self.state.lock:
            self.state.requests.append(
                (method, path, {k.lower(): v for k, v in self.headers.items()})
            )
        if path.startswith("/_stub/"):
            return self._control(method, path, body)
        if self._misbehave(path):
            return None
        for pattern, handler_name in ROUTES:
            match = re.fullmatch(pattern, path)
            if match and handler_name.startswith(method.lower() + "_"):
                if handler_name.startswith(("get_azure", "put_azure", "patch_azure")):
                    if query.get("api-version", [""])[0] != API_VERSION:
                        return self._send(
                            400,
                            {
                                "error": {
                                    "code": "MissingApiVersionParameter",
                                    "message": "api-version",
                                }
                            },
                        )
                if not handler_name.endswith("_token") and not self.headers.get(
                    "Authorization", ""
                ).startswith("Bearer "):
                    return self._send(
                        401,
                        {"error": {"code": "AuthenticationFailed", "message": "No bearer token"}},
                    )
                return getattr(self, handler_name)(body, **match.groupdict())
        return self._send(404, {"error": {"code": "NotFound", "message": f"No route {path}"}})

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    # -- identity platform ------------------------------------------------------------------

    def post_token(self, body, tenant):
        if body.get("grant_type") != "client_credentials" or not body.get("client_secret"):
            return self._send(
                400, {"error": "invalid_client", "error_description": "Bad credentials"}
            )
        with self.state.lock:
            self.state.tokens_issued += 1
        return self._send(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": f"stub.{tenant}.{uuid.uuid4().hex}",
            },
        )

    # -- Azure support ----------------------------------------------------------------------

    def get_azure_services(self, body):
        return self._send(
            200,
            {
                "value": [
                    {
                        "id": f"/providers/Microsoft.Support/services/{sid}",
                        "name": sid,
                        "type": "Microsoft.Support/services",
                        "properties": {"displayName": name, "resourceTypes": []},
                    }
                    for sid, (name, _c) in SERVICES.items()
                ]
            },
        )

    def get_azure_classifications(self, body, service):
        if service not in SERVICES:
            return self._send(404, {"error": {"code": "ResourceNotFound", "message": service}})
        removed = self.state.removed_classifications
        return self._send(
            200,
            {
                "value": [
                    {
                        "id": f"/providers/Microsoft.Support/services/{service}/problemClassifications/{pid}",
                        "name": pid,
                        "type": "Microsoft.Support/problemClassifications",
                        "properties": {"displayName": name},
                    }
                    for pid, name in SERVICES[service][1].items()
                    if pid not in removed
                ]
            },
        )

    def put_azure_ticket(self, body, subscription, name):
        if not self.headers.get("x-ms-authorization-auxiliary", "").startswith("Bearer "):
            return self._send(
                403,
                {
                    "error": {
                        "code": "AuthorizationFailed",
                        "message": "x-ms-authorization-auxiliary",
                    }
                },
            )
        props = body.get("properties") or {}
        missing = [
            key
            for key in (
                "serviceId",
                "problemClassificationId",
                "title",
                "description",
                "severity",
                "contactDetails",
            )
            if not props.get(key)
        ]
        if missing:
            return self._send(
                400, {"error": {"code": "BadRequest", "message": f"Missing {', '.join(missing)}"}}
            )
        if props["severity"] not in SEVERITIES:
            return self._send(
                400, {"error": {"code": "InvalidSeverity", "message": props["severity"]}}
            )
        match = re.fullmatch(
            r"/providers/Microsoft\.Support/services/([^/]+)/problemClassifications/([^/]+)",
            props["problemClassificationId"],
        )
        if (
            not match
            or match.group(1) not in SERVICES
            or match.group(2) not in SERVICES[match.group(1)][1]
            or match.group(2) in self.state.removed_classifications
        ):
            return self._send(
                400,
                {
                    "error": {
                        "code": "InvalidProblemClassificationId",
                        "message": "The problem classification does not exist",
                    }
                },
            )
        with self.state.lock:
            existing = self.state.tickets.get(name)
            if existing is None:
                self.state.ticket_creates += 1
                number = str(self.state.next_ticket_number)
                self.state.next_ticket_number += 1
                service_id = f"/providers/Microsoft.Support/services/{match.group(1)}"
                self.state.tickets[name] = {
                    "id": f"/subscriptions/{subscription}/providers/Microsoft.Support/supportTickets/{name}",
                    "name": name,
                    "type": "Microsoft.Support/supportTickets",
                    "properties": {
                        "supportTicketId": number,
                        "description": props["description"],
                        "problemClassificationId": props["problemClassificationId"],
                        "problemClassificationDisplayName": SERVICES[match.group(1)][1][
                            match.group(2)
                        ],
                        "severity": props["severity"],
                        "require24X7Response": False,
                        "contactDetails": props["contactDetails"],
                        "technicalTicketDetails": props.get("technicalTicketDetails") or {},
                        "serviceLevelAgreement": {
                            "startTime": _now(),
                            "expirationTime": _now(),
                            "slaMinutes": 240,
                        },
                        "supportPlanType": "Premier",
                        "title": props["title"],
                        "serviceId": service_id,
                        "serviceDisplayName": SERVICES[match.group(1)][0],
                        "status": "Open",
                        "createdDate": _now(),
                        "modifiedDate": _now(),
                    },
                }
                self.state.ticket_subscription[name] = subscription
                self.state.communications[name] = []
            operation = uuid.uuid4().hex
            self.state.operations[operation] = {"polls": 0}
        base = self._base()
        prefix = f"{base}/subscriptions/{subscription}/providers/Microsoft.Support"
        return self._send(
            202,
            None,
            {
                "location": f"{prefix}/operationResults/{operation}?api-version={API_VERSION}",
                "azure-asyncoperation": f"{prefix}/operationsStatus/{operation}?api-version={API_VERSION}",
            },
        )

    def get_azure_operation(self, body, subscription, operation):
        with self.state.lock:
            record = self.state.operations.get(operation)
            if record is None:
                return self._send(404, {"error": {"code": "NotFound", "message": operation}})
            record["polls"] += 1
            status = "InProgress" if record["polls"] == 1 else "Succeeded"
        return self._send(200, {"name": operation, "status": status, "startTime": _now()})

    def get_azure_ticket(self, body, subscription, name):
        ticket = self.state.tickets.get(name)
        if ticket is None or self.state.ticket_subscription.get(name) != subscription:
            return self._send(404, {"error": {"code": "ResourceNotFound", "message": name}})
        return self._send(200, ticket)

    def patch_azure_ticket(self, body, subscription, name):
        ticket = self.state.tickets.get(name)
        if ticket is None:
            return self._send(404, {"error": {"code": "ResourceNotFound", "message": name}})
        with self.state.lock:
            if body.get("status"):
                ticket["properties"]["status"] = str(body["status"]).capitalize()
            if body.get("severity"):
                ticket["properties"]["severity"] = body["severity"]
            ticket["properties"]["modifiedDate"] = _now()
        return self._send(200, ticket)

    def get_azure_communications(self, body, subscription, name):
        if name not in self.state.tickets:
            return self._send(404, {"error": {"code": "ResourceNotFound", "message": name}})
        return self._send(200, {"value": list(self.state.communications[name])})

    def put_azure_communication(self, body, subscription, name, communication):
        if name not in self.state.tickets:
            return self._send(404, {"error": {"code": "ResourceNotFound", "message": name}})
        props = body.get("properties") or {}
        if not props.get("body") or not props.get("subject"):
            return self._send(400, {"error": {"code": "BadRequest", "message": "subject and body"}})
        with self.state.lock:
            known = {c["name"] for c in self.state.communications[name]}
            if communication not in known:
                self.state.communications[name].append(
                    self._communication(subscription, name, communication, props, "outbound")
                )
            operation = uuid.uuid4().hex
            self.state.operations[operation] = {"polls": 1}
        return self._send(
            202,
            None,
            {
                "location": f"{self._base()}/subscriptions/{subscription}/providers/Microsoft.Support/operationResults/{operation}?api-version={API_VERSION}"
            },
        )

    @staticmethod
    def _communication(subscription, ticket, name, props, direction):
        return {
            "id": f"/subscriptions/{subscription}/providers/Microsoft.Support/supportTickets/{ticket}/communications/{name}",
            "name": name,
            "type": "Microsoft.Support/communications",
            "properties": {
                "subject": props.get("subject", ""),
                "body": props.get("body", ""),
                "communicationType": "web",
                "communicationDirection": direction,
                "sender": props.get("sender", "support@microsoft.example"),
                "createdDate": _now(),
            },
        }

    def get_azure_operation_result(self, body, subscription, operation):
        return self._send(200, {})

    # -- Partner Center ---------------------------------------------------------------------

    def _service_request(self, case):
        return self.state.service_requests.get(case)

    def get_service_request(self, body, case):
        request = self._service_request(case)
        if request is None:
            return self._send(
                404,
                {
                    "code": "2001",
                    "description": "Service request not found",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        return self._send(200, request)

    def patch_service_request(self, body, case):
        request = self._service_request(case)
        if request is None:
            return self._send(
                404,
                {
                    "code": "2001",
                    "description": "Service request not found",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        note = body.get("NewNote") or body.get("newNote")
        with self.state.lock:
            if note and (note.get("Text") or note.get("text")):
                request.setdefault("notes", []).append(
                    {
                        "createdByName": note.get("CreatedByName")
                        or note.get("createdByName")
                        or "Partner",
                        "createdDate": _now(),
                        "text": note.get("Text") or note.get("text"),
                    }
                )
            request["lastModifiedDate"] = _now()
        return self._send(200, request)

    def get_customer_service_requests(self, body, tenant):
        items = [
            {
                k: v
                for k, v in sr.items()
                if k
                in {
                    "title",
                    "severity",
                    "id",
                    "status",
                    "primaryContact",
                    "createdDate",
                    "lastModifiedDate",
                    "lastClosedDate",
                    "attributes",
                }
            }
            for case, sr in self.state.service_requests.items()
            if self.state.service_request_customer.get(case) == tenant
        ]
        return self._send(
            200,
            {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}},
        )

    def get_customer_service_request(self, body, tenant, case):
        if self.state.service_request_customer.get(case) != tenant:
            return self._send(
                404,
                {
                    "code": "2001",
                    "description": "Service request not found",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        return self.get_service_request(body, case)

    def patch_customer_service_request(self, body, tenant, case):
        if self.state.service_request_customer.get(case) != tenant:
            return self._send(
                404,
                {
                    "code": "2001",
                    "description": "Service request not found",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        return self.patch_service_request(body, case)

    def _subscription(self, tenant, subscription):
        key = (tenant, subscription.lower())
        with self.state.lock:
            if key not in self.state.subscriptions:
                self.state.subscriptions[key] = {
                    "id": subscription,
                    "friendlyName": "nickname",
                    "quantity": 2,
                    "unitType": "none",
                    "parentSubscriptionId": None,
                    "creationDate": "2015-11-25T06:41:12Z",
                    "effectiveStartDate": "2015-11-24T08:00:00Z",
                    "commitmentEndDate": "2016-12-12T08:00:00Z",
                    "status": "active",
                    "autoRenewEnabled": False,
                    "billingType": "none",
                    "partnerId": None,
                    "contractType": "subscription",
                    "orderId": "6183db3d-6318-4e52-877e-25806e4971be",
                    "attributes": {"etag": _etag(), "objectType": "Subscription"},
                }
            return self.state.subscriptions[key]

    def get_subscription(self, body, tenant, subscription):
        return self._send(200, self._subscription(tenant, subscription))

    def patch_subscription(self, body, tenant, subscription):
        """The full subscription with `Status` changed and `If-Match` its etag, as
        subscription.suspend.request.json; answers as subscription.suspend.response.json."""
        current = self._subscription(tenant, subscription)
        etag = current["attributes"]["etag"]
        sent = body.get("Attributes") or body.get("attributes") or {}
        if self.headers.get("If-Match") != etag or (sent.get("Etag") or sent.get("etag")) not in (
            None,
            etag,
        ):
            return self._send(
                400,
                {
                    "code": "2055",
                    "description": "The etag is no longer valid",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        status = str(body.get("Status") or body.get("status") or "").lower()
        quantity = body.get("Quantity", body.get("quantity", current["quantity"]))
        if status not in {"active", "suspended"}:
            return self._send(
                400,
                {
                    "code": "2001",
                    "description": "Unsupported status",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        if current["status"] == "suspended" and status == "suspended":
            return self._send(
                400,
                {
                    "code": "800091",
                    "description": "Cannot update a subscription with suspended status",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        if quantity != current["quantity"]:
            return self._send(
                400,
                {
                    "code": "2001",
                    "description": "Quantity cannot change while the status changes",
                    "data": [],
                    "source": "PartnerFD",
                },
            )
        with self.state.lock:
            current["status"] = status
            current["attributes"]["etag"] = _etag()
        response = {
            key[:1].upper() + key[1:]: value
            for key, value in current.items()
            if key != "attributes"
        }
        response["Links"] = {
            "Offer": {
                "Uri": "/v1/offers/0CCA44D6-68E9-4762-94EE-31ECE98783B9",
                "Method": "GET",
                "Headers": [],
            },
            "Entitlement": {
                "Uri": f"/entitlements?key={subscription}",
                "Method": "GET",
                "Headers": [],
            },
            "Self": {"Uri": f"/subscriptions?key={subscription}", "Method": "GET", "Headers": []},
        }
        response["Attributes"] = {
            "Etag": current["attributes"]["etag"],
            "ObjectType": "Subscription",
        }
        return self._send(200, response)

    # -- control ----------------------------------------------------------------------------

    def _control(self, method, path, body):
        state = self.state
        if method == "POST" and path == "/_stub/reset":
            state.reset()
            return self._send(200, {"ok": True})
        if method == "GET" and path == "/_stub/state":
            return self._send(200, state_summary(state))
        if method == "POST" and path == "/_stub/faults":
            add_fault(state, **body)
            return self._send(200, {"ok": True})
        if method == "POST" and path == "/_stub/delay":
            add_delay(state, **body)
            return self._send(200, {"ok": True})
        if method == "POST" and path == "/_stub/servicerequests":
            return self._send(201, add_service_request(state, **body))
        match = re.fullmatch(r"/_stub/servicerequests/(\d+)", path)
        if method == "PATCH" and match:
            return self._send(200, update_service_request(state, match.group(1), **body))
        if method == "POST" and path == "/_stub/communications":
            return self._send(201, add_microsoft_communication(state, **body))
        match = re.fullmatch(r"/_stub/supporttickets/([^/]+)", path)
        if method == "PATCH" and match:
            ticket = state.tickets[match.group(1)]
            ticket["properties"]["status"] = body.get("status", "Closed")
            return self._send(200, ticket)
        if method == "POST" and path == "/_stub/remove-classification":
            state.removed_classifications.add(body["id"])
            return self._send(200, {"ok": True})
        return self._send(404, {"error": {"code": "NotFound", "message": path}})


_AZ = r"/subscriptions/(?P<subscription>[^/]+)/providers/Microsoft\.Support"
ROUTES = [
    (r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", "post_token"),
    (r"/providers/Microsoft\.Support/services", "get_azure_services"),
    (
        r"/providers/Microsoft\.Support/services/(?P<service>[^/]+)/problemClassifications",
        "get_azure_classifications",
    ),
    (_AZ + r"/supportTickets/(?P<name>[^/]+)", "put_azure_ticket"),
    (_AZ + r"/supportTickets/(?P<name>[^/]+)", "get_azure_ticket"),
    (_AZ + r"/supportTickets/(?P<name>[^/]+)", "patch_azure_ticket"),
    (_AZ + r"/supportTickets/(?P<name>[^/]+)/communications", "get_azure_communications"),
    (
        _AZ + r"/supportTickets/(?P<name>[^/]+)/communications/(?P<communication>[^/]+)",
        "put_azure_communication",
    ),
    (_AZ + r"/operationsStatus/(?P<operation>[^/]+)", "get_azure_operation"),
    (_AZ + r"/operationResults/(?P<operation>[^/]+)", "get_azure_operation_result"),
    (r"/v1/servicerequests/(?P<case>\d+)", "get_service_request"),
    (r"/v1/servicerequests/(?P<case>\d+)", "patch_service_request"),
    (r"/v1/customers/(?P<tenant>[^/]+)/servicerequests", "get_customer_service_requests"),
    (
        r"/v1/customers/(?P<tenant>[^/]+)/servicerequests/(?P<case>\d+)",
        "get_customer_service_request",
    ),
    (
        r"/v1/customers/(?P<tenant>[^/]+)/servicerequests/(?P<case>\d+)",
        "patch_customer_service_request",
    ),
    (r"/v1/customers/(?P<tenant>[^/]+)/subscriptions/(?P<subscription>[^/]+)", "get_subscription"),
    (
        r"/v1/customers/(?P<tenant>[^/]+)/subscriptions/(?P<subscription>[^/]+)",
        "patch_subscription",
    ),
]


# -- controls (shared by the HTTP control endpoints and in-process callers) ------------------


def add_fault(
    state: State, status: int, count: int = 1, retry_after: float = 1, path: str = "", **_
):
    with state.lock:
        state.faults.append(
            {"status": int(status), "count": int(count), "retry_after": retry_after, "path": path}
        )


def add_delay(state: State, seconds: float, count: int = 1, path: str = "", **_):
    with state.lock:
        state.delays.append({"seconds": float(seconds), "count": int(count), "path": path})


def add_service_request(
    state: State,
    id: str,  # noqa: A002 — Microsoft's field name
    title: str = "Escalated from the portal",
    customerTenantId: str = "",  # noqa: N803 — Microsoft's field name
    status: str = "open",
    severity: str = "moderate",
    description: str = "",
    **_,
) -> dict:
    with state.lock:
        record = {
            "title": title,
            "description": description,
            "severity": severity,
            "supportTopicId": "32444671",
            "supportTopicName": "Cannot manage my profile",
            "id": str(id),
            "status": status,
            "organization": {"id": str(uuid.uuid4()), "name": "Partner"},
            "productId": "15960",
            "createdDate": _now(),
            "lastModifiedDate": _now(),
            "lastClosedDate": "0001-01-01T00:00:00",
            "notes": [],
            "attributes": {"objectType": "ServiceRequest"},
        }
        state.service_requests[str(id)] = record
        if customerTenantId:
            state.service_request_customer[str(id)] = customerTenantId
        return record


def update_service_request(state: State, case: str, status: str = "", note: str = "", **_) -> dict:
    with state.lock:
        record = state.service_requests[case]
        if status:
            record["status"] = status
            if status == "closed":
                record["lastClosedDate"] = _now()
        if note:
            record["notes"].append(
                {"createdByName": "Microsoft Support", "createdDate": _now(), "text": note}
            )
        record["lastModifiedDate"] = _now()
        return record


def add_microsoft_communication(
    state: State, ticket: str, subject: str = "Update", body: str = "", **_
) -> dict:
    with state.lock:
        name = f"ms-{uuid.uuid4().hex[:12]}"
        item = Handler._communication(
            state.ticket_subscription[ticket],
            ticket,
            name,
            {"subject": subject, "body": body, "sender": "engineer@microsoft.example"},
            "inbound",
        )
        state.communications[ticket].append(item)
        return item


def state_summary(state: State) -> dict:
    with state.lock:
        return {
            "ticket_creates": state.ticket_creates,
            "tickets": {
                name: t["properties"]["supportTicketId"] for name, t in state.tickets.items()
            },
            "communications": {name: len(c) for name, c in state.communications.items()},
            "service_requests": {case: sr["status"] for case, sr in state.service_requests.items()},
            "tokens_issued": state.tokens_issued,
            "requests": len(state.requests),
        }


class MicrosoftStub:
    """The stub as an object: `MicrosoftStub(port=0).start()`, `.url`, `.stop()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False):
        self.state = State()
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.server.state = self.state  # type: ignore[attr-defined]
        self.server.verbose = verbose  # type: ignore[attr-defined]
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MicrosoftStub:
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="microsoft-stub", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, status: int, *, count: int = 1, retry_after: float = 1, path: str = "") -> None:
        add_fault(self.state, status, count, retry_after, path)

    def slow(self, seconds: float, *, count: int = 1, path: str = "") -> None:
        add_delay(self.state, seconds, count, path)

    def requests_to(self, fragment: str, method: str | None = None) -> list[tuple[str, str, dict]]:
        return [
            r
            for r in self.state.requests
            if fragment in r[1] and (method is None or r[0] == method)
        ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    stub = MicrosoftStub(args.host, args.port, verbose=not args.quiet)
    print(f"Microsoft stub listening on {stub.url}", flush=True)
    try:
        stub.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stub.server.server_close()


if __name__ == "__main__":
    main()
