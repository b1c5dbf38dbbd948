"""A tiny real HTTP server on 127.0.0.1 that speaks Partner Center's subscription shapes
(GET and PATCH /v1/customers/{tenant}/subscriptions/{id}), for the client and the tasks.
`failures` queues answers to give first (429 with Retry-After, 5xx, documented refusals)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SAMPLES = Path("/work/shared/partner-center/samples")


def _sample(name: str) -> dict:
    path = SAMPLES / name
    if path.exists():
        return json.loads(path.read_text())
    return {}


THROTTLED = _sample("error.throttled-429.response.json") or {
    "code": "429",
    "description": "Rate limit is exceeded",
}


class PartnerCenterStub:
    def __init__(self):
        self.subscriptions: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self.failures: list[tuple[int, dict, dict]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                parts = self.path.strip("/").split("/")
                with stub.lock:
                    stub.requests.append(
                        {
                            "method": method,
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                    failure = stub.failures.pop(0) if stub.failures else None
                if failure:
                    return self._send(*failure)
                if (
                    len(parts) != 5
                    or parts[:2] != ["v1", "customers"]
                    or parts[3] != "subscriptions"
                ):
                    return self._send(404, {"code": 404, "description": "Not found"})
                key = (parts[2].lower(), parts[4].lower())
                with stub.lock:
                    current = stub.subscriptions.get(key)
                    if current is None:
                        return self._send(
                            404, {"code": 2000, "description": "Subscription not found"}
                        )
                    if method == "GET":
                        return self._send(200, current)
                    etag = current["attributes"]["etag"]
                    if self.headers.get("If-Match") != etag:
                        return self._send(
                            400, {"code": 2055, "description": "Etag is no longer valid"}
                        )
                    status = body.get("Status") or body.get("status")
                    current["status"] = status
                    version = int(current.get("_version", 1)) + 1
                    current["_version"] = version
                    current["attributes"]["etag"] = f"etag-{key[1]}-{version}"
                    answer = dict(_sample("subscription.suspend.response.json"))
                    answer.update({"Id": current["id"], "Status": status})
                    answer["Attributes"] = {
                        "Etag": current["attributes"]["etag"],
                        "ObjectType": "Subscription",
                    }
                    return self._send(200, answer)

            def do_GET(self):
                self._handle("GET")

            def do_PATCH(self):
                self._handle("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add_subscription(self, tenant_id, subscription_id, status="active") -> dict:
        body = dict(_sample("subscription.get.response.json"))
        body.update({"id": str(subscription_id), "status": status})
        body["attributes"] = {
            "etag": f"etag-{str(subscription_id).lower()}-1",
            "objectType": "Subscription",
        }
        self.subscriptions[(str(tenant_id).lower(), str(subscription_id).lower())] = body
        return body

    def status_of(self, tenant_id, subscription_id) -> str:
        return self.subscriptions[(str(tenant_id).lower(), str(subscription_id).lower())]["status"]

    def patches(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "PATCH"]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
