"""Liveness and readiness, and the hook that a future outbox's backlog check plugs into."""

import pytest
from django.test import Client

from csp_portal import health


@pytest.mark.django_db
def test_liveness():
    assert Client().get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_postgresql_and_redis():
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"postgresql": "ok", "redis": "ok", "outbox": "ok"}


@pytest.mark.django_db
def test_a_registered_check_that_fails_makes_the_portal_unready():
    # A name of its own: the outbox's real check stays registered for the other tests.
    health.register_readiness_check("example", lambda: "backlog of 5000 messages")
    try:
        response = Client().get("/readyz")
    finally:
        health._extra_checks.pop("example")

    assert response.status_code == 503
    assert response.json()["checks"]["example"] == "backlog of 5000 messages"
