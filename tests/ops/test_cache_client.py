"""The shared cache makes one redis-py client per connection pool, not one per call."""

import redis
from django.conf import settings

from csp_portal.resilience import FailSoftRedisCache


def _cache() -> FailSoftRedisCache:
    default = settings.CACHES["default"]
    return FailSoftRedisCache(
        default["LOCATION"],
        {"KEY_PREFIX": "cache-client-test", "OPTIONS": default.get("OPTIONS", {})},
    )


def test_cache_calls_share_one_client_and_still_reach_redis(monkeypatch):
    made = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    cache = _cache()
    try:
        cache.set("a", {"n": 1}, 30)
        cache.set_many({"b": 2, "c": 3}, 30)
        assert cache.get("a") == {"n": 1}
        assert cache.get_many(["b", "c", "missing"]) == {"b": 2, "c": 3}
        assert cache.incr("b") == 3
        cache.delete("a")
        assert cache.get("a", "gone") == "gone"
        # The values live in Redis, not in the process-memory fallback: another cache
        # object on the same server reads them.
        assert _cache().get("c") == 3
    finally:
        cache.delete_many(["a", "b", "c"])

    # Two cache objects, one client each, for all the calls above.
    assert len(made) == 2
    assert made[0] is not made[1]
