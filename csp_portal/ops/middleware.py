"""Middleware of the operability and hardening work.

- `RequestContextMiddleware` (first): a request id from X-Request-ID or a fresh one, echoed
  in the response; the log context (request id, partner, client address) for everything the
  request does; request count and latency by route name and status.
- `PortalCSPMiddleware`: django-csp's Content-Security-Policy, plus Permissions-Policy.
- `AdminLoginThrottleMiddleware`: the Django admin's sign-in, which allauth's rate limits do
  not cover, limited per client address and per username in the shared cache.
"""

from __future__ import annotations

import hashlib
import logging

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from . import context, metrics

logger = logging.getLogger("csp_portal.request")


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return match.view_name
    if request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = context.request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        work = context.WorkContext(
            request_id=request_id, ip=context.client_ip(request), request=request
        )
        with context.bind(work), metrics.Timer() as timer:
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        route = _route(request)
        metrics.observe_request(
            route=route, method=request.method, status=response.status_code, seconds=timer.seconds
        )
        if route != "static":
            with context.bind(work):
                logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(timer.seconds * 1000, 1),
                    },
                )
        return response


class PortalCSPMiddleware(CSPMiddleware):
    """The policy in settings.CONTENT_SECURITY_POLICY for every page. The operator's Django
    admin (platform host only) keeps inline styles, which its widgets still use."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if (
            not report_only
            and getattr(request, "partner", None) is None
            and request.path_info.startswith("/admin/")
        ):
            parts.update = {**(parts.update or {}), "style-src": ["'unsafe-inline'"]}
        return parts

    def process_response(self, request, response):
        response = super().process_response(request, response)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


class AdminLoginThrottleMiddleware:
    """Counts every POST to the admin's sign-in (atomic INCR in Redis, before the password is
    checked, so parallel attempts are counted too) per client address and per username; past
    ADMIN_LOGIN_MAX_ATTEMPTS in ADMIN_LOGIN_WINDOW_SECONDS the form answers 429 without
    checking the password. A successful sign-in clears both counters."""

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _keys(request) -> list[str]:
        ip = context.client_ip(request) or "unknown"
        username = request.POST.get("username", "").strip().lower()
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        return [f"admin-login:ip:{ip}", f"admin-login:user:{digest}"]

    def __call__(self, request):
        if not (
            request.method == "POST"
            and getattr(request, "partner", None) is None
            and request.path_info == "/admin/login/"
        ):
            return self.get_response(request)
        keys = self._keys(request)
        window = settings.ADMIN_LOGIN_WINDOW_SECONDS
        attempts = []
        for key in keys:
            cache.add(key, 0, timeout=window)
            try:
                attempts.append(cache.incr(key))
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)
                attempts.append(1)
        if max(attempts) > settings.ADMIN_LOGIN_MAX_ATTEMPTS:
            logger.warning("admin sign-in throttled", extra={"attempts": max(attempts)})
            return render(request, "ops/too_many_attempts.html", status=429)
        response = self.get_response(request)
        if response.status_code == 302 and request.user.is_authenticated:
            cache.delete_many(keys)
        return response
