"""How the web tier behaves when a server it depends on is away.

Redis (cache, rate limits, throttling): `FailSoftRedisCache` is Django's Redis cache that,
when Redis does not answer, serves from a per-process in-memory cache instead of raising, and
stops asking Redis for `RETRY_SECONDS` before trying again. Pages keep working; the counters
behind sign-in rate limits (allauth), the admin sign-in throttle and the API's per-token
throttling keep counting — per process instead of shared, so during an outage a client gets
at most the limit times the number of web processes, never an unlimited number of attempts.
When Redis is back the shared counters are used again (what was counted in memory is not
carried over). Celery work is not affected: it goes through the outbox (csp_portal.outbox).

PostgreSQL: `DatabaseUnavailableMiddleware` turns `OperationalError` / `InterfaceError`
(server restarting, connection dropped, failover) into a 503 with `Retry-After` — a
standalone page, or a problem document under /api/ — instead of a 500. Nothing is cached
about the failure: with `CONN_HEALTH_CHECKS` the next request opens a fresh connection, so
the process recovers by itself as soon as the server is back.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import threading
import time

import redis
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger("csp_portal.resilience")

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
DATABASE_ERRORS = (OperationalError, InterfaceError)


# -- Redis ------------------------------------------------------------------------------------


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per connection pool. Django's
    makes a new one for every cache call, and each copies redis-py's table of some 170
    response callbacks (about 0.2 ms; a page reads the cache several times). A `redis.Redis`
    on a pool holds no connection of its own, so sharing it is what the pool is for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    RETRY_SECONDS = 2.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._fallback = LocMemCache(f"failsoft-{id(self)}", {"OPTIONS": {"MAX_ENTRIES": 10000}})
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _call(self, name, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except REDIS_ERRORS as error:
                with self._lock:
                    if time.monotonic() >= self._down_until:
                        logger.warning("cache: Redis unavailable (%s); using process memory", error)
                    self._down_until = time.monotonic() + self.RETRY_SECONDS
        return getattr(self._fallback, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def set_strict(self, *args, **kwargs):
        """Redis itself, no fallback (the readiness check)."""
        return RedisCache.set(self, *args, **kwargs)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")


# -- PostgreSQL -------------------------------------------------------------------------------


def retry_after_seconds() -> int:
    return int(getattr(settings, "DATABASE_UNAVAILABLE_RETRY_AFTER", 10))


def is_database_outage(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_ERRORS)


def unavailable_response(request) -> HttpResponse:
    """503 that needs neither the database nor a context processor."""
    headers = {"Retry-After": str(retry_after_seconds()), "Cache-Control": "no-store"}
    if request.path_info.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": "Service unavailable",
            "status": 503,
            "detail": "The service is briefly unavailable; retry after the number of seconds "
            "in Retry-After.",
        }
        return HttpResponse(
            json.dumps(body),
            status=503,
            content_type="application/problem+json",
            headers=headers,
        )
    nonce = secrets.token_urlsafe(16)
    headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; frame-ancestors 'none'"
    )
    html = render_to_string("503.html", {"csp_nonce": nonce})
    return HttpResponse(html, status=503, headers=headers)


def _note_outage(sender, request=None, **kwargs):
    """Errors raised in middleware never reach `process_exception`; Django reports them with
    this signal (inside its except block) before rendering its 500."""
    if request is not None and is_database_outage(sys.exc_info()[1]):
        request._database_unavailable = True


got_request_exception.connect(_note_outage, dispatch_uid="csp_portal.resilience")


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            logger.warning("database unavailable: %s", exception)
            request._database_unavailable = True
            return unavailable_response(request)
        return None
