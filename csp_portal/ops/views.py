"""/metrics on the platform host, for Prometheus."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse

from . import metrics

LOOPBACK = {"127.0.0.1", "::1"}


def _refusal(request) -> HttpResponse | None:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return None
        response = HttpResponse("Bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # No token configured: only a scraper on this machine, never through a proxy.
    if request.META.get("REMOTE_ADDR") in LOOPBACK and "HTTP_X_FORWARDED_FOR" not in request.META:
        return None
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain")


def metrics_view(request):
    if getattr(request, "partner", None) is not None:
        return HttpResponse(status=404)
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")
