"""Transactional outbox: Celery work written to PostgreSQL in the same transaction as the
change that calls for it, then handed to the broker (see `csp_portal.outbox.services`).

`from csp_portal import outbox; outbox.enqueue(task, **kwargs)`, or
`outbox.enqueue_many([(task, kwargs), ...])` for many tasks at once — importable before the app
registry is ready (the services module is loaded on first use)."""


def enqueue(task, *, countdown=None, eta=None, **kwargs):
    from .services import enqueue as _enqueue

    return _enqueue(task, countdown=countdown, eta=eta, **kwargs)


def enqueue_many(calls) -> list[int]:
    from .services import enqueue_many as _enqueue_many

    return _enqueue_many(calls)


def relay_pending(**kwargs) -> int:
    from .services import relay_pending as _relay_pending

    return _relay_pending(**kwargs)
