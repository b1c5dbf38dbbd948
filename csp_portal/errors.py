"""Error pages that never reveal another partner's existence and never need the database.
Under /api/ they are problem documents (RFC 9457), like every other API error."""

import json

from django.http import HttpResponse
from django.shortcuts import render

_TITLES = {403: "Forbidden", 404: "Not found", 500: "Server error"}


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _problem(status: int) -> HttpResponse:
    body = {"type": "about:blank", "title": _TITLES[status], "status": status}
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def not_found(request, exception=None):
    if _is_api(request):
        return _problem(404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    if _is_api(request):
        return _problem(403)
    return render(request, "403.html", status=403)


def server_error(request):
    if _is_api(request):
        return _problem(500)
    return render(request, "500.html", status=500)
