"""Run what the code under test sent to the real Redis broker, the way a worker would."""

from __future__ import annotations

import json

from csp_portal.celery import app


def drain_tasks(queue: str = "celery", *, run: bool = True) -> list[tuple[str, dict]]:
    """Take every message from `queue`; return (task name, kwargs) in order and, with
    `run`, execute each task in-process from its JSON arguments."""
    taken = []
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue)
        try:
            while True:
                try:
                    message = simple.get(block=True, timeout=0.2)
                except simple.Empty:
                    break
                name = message.headers["task"]
                args, kwargs, _embed = message.payload
                message.ack()
                json.dumps([args, kwargs])  # the arguments are JSON, as a worker receives them
                taken.append((name, kwargs))
                if run:
                    app.tasks[name].apply(args=args, kwargs=kwargs, throw=True)
        finally:
            simple.close()
    return taken


def purge_tasks(queue: str = "celery") -> None:
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
