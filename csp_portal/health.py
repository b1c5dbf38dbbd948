"""Liveness (the process answers) and readiness (PostgreSQL and Redis answer, and whatever
else registered a check).

The transactional outbox registers its backlog check here (csp_portal/outbox/apps.py):
readiness answers 503 while work has waited in it too long."""

from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

_extra_checks: dict[str, Callable[[], str]] = {}


def register_readiness_check(name: str, check: Callable[[], str]) -> None:
    """`check()` returns "ok" when ready, anything else (a short reason) when not."""
    _extra_checks[name] = check


def liveness(request):
    return JsonResponse({"status": "ok"})


def readiness(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["postgresql"] = "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        checks["postgresql"] = f"error: {type(error).__name__}"
    try:
        # Redis itself: the cache falls back to process memory when Redis is away.
        getattr(cache, "set_strict", cache.set)("readyz", "1", 5)
        checks["redis"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["redis"] = f"error: {type(error).__name__}"
    for name, check in _extra_checks.items():
        try:
            checks[name] = check()
        except Exception as error:  # noqa: BLE001
            checks[name] = f"error: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
