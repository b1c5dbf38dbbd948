"""The partner a host or `/p/<slug>/` names, and small per-partner lists that every
workspace page shows, kept in the shared cache.

Every request starts by finding its partner; the row changes a few times a year. The cache
holds the Partner by the name it was looked up with (`slug:<slug>`, `domain:<host>`), and
every write to a partner forgets both names of the row before and after the change — a
save, a delete and a queryset `update()`/`delete()` alike — so no process serves a changed
partner from the cache. `TTL_SECONDS` bounds what a missed forget (a write while Redis was
away, when each process falls back to its own memory) can leave behind. Misses are not
cached: an unknown host costs its query every time, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction

TTL_SECONDS = 60
_PREFIX = "tenant-partner"


def _key(kind: str, value: str) -> str:
    return f"{_PREFIX}:{kind}:{value}"


def keys_of(slug: str | None, custom_domain: str | None) -> list[str]:
    keys = [_key("slug", slug)] if slug else []
    if custom_domain:
        keys.append(_key("domain", custom_domain.lower()))
    return keys


def lookup(kind: str, value: str, load: Callable[[], object | None]):
    """The partner cached under (kind, value), or `load()`'s answer, cached when found."""
    key = _key(kind, value)
    partner = cache.get(key)
    if partner is None:
        partner = load()
        if partner is not None:
            cache.set(key, partner, TTL_SECONDS)
    return partner


def forget(rows: Iterable[tuple[str | None, str | None]]) -> None:
    """Drop the cached entries of partners given as (slug, custom domain) pairs, now and
    again when the transaction commits (a request that read the row before the commit may
    have cached it meanwhile)."""
    keys = [key for slug, domain in rows for key in keys_of(slug, domain)]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


# -- per-partner reference lists ----------------------------------------------------------
#
# Lists a page shows on every view and that change a few times a week (the assignee choices,
# the canned responses, the escalation panel's contracts and benefits): `remembered()` serves
# them from the cache, and the models' save and delete (and the services' bulk updates of
# them) call `forget_list()` for their partner. They are for showing only; a form that acts
# on a choice checks it against the database.

_MISSING = object()


def _list_key(partner_id, name: str) -> str:
    return f"tenant-list:{partner_id}:{name}"


def remembered(partner_id, name: str, load: Callable[[], list]) -> list:
    key = _list_key(partner_id, name)
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = list(load())
        cache.set(key, value, TTL_SECONDS)
    return value


def forget_list(partner_id, name: str) -> None:
    key = _list_key(partner_id, name)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
