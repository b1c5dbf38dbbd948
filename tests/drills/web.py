"""A small HTTP client for drills against a web server subprocess: the partner's host, its
own cookies, CSRF form posts; every answer is recorded in `seen`."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore


def session_for(user) -> str:
    """A signed-in session (database sessions), as a browser holds after signing in."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


class Browser:
    def __init__(self, base_url: str, host: str, session_key: str | None = None):
        self.base_url, self.host = base_url, host
        self.cookies: dict[str, str] = {"sessionid": session_key} if session_key else {}
        self.seen: list[tuple[str, int]] = []

    def request(self, method, path, *, data=None, json_body=None, headers=None, timeout=15):
        all_headers = {"Host": self.host, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(  # noqa: S310
            self.base_url + path, data=body, method=method, headers=all_headers
        )
        try:
            response = _OPENER.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            status, headers_out, content = response.status, response.headers, response.read()
        for raw in headers_out.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        self.seen.append((f"{method} {path}", status))
        return status, dict(headers_out), content

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def csrf_post(self, path, data):
        """GET the form, then POST it with its CSRF token (cookie and field)."""
        status, _headers, html = self.get(path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path} ({status})"
        return self.request(
            "POST",
            path,
            data={**data, "csrfmiddlewaretoken": match.group(1).decode()},
            headers={"Referer": f"http://{self.host}{path}"},
        )
