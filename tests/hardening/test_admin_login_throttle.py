"""The Django admin's sign-in is limited per client address and per username, in Redis, and
parallel attempts are counted before any password is checked."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from tests.factories import PASSWORD, UserFactory

LOGIN = "/admin/login/"


def _attempt(username, password, ip="203.0.113.7"):
    return Client(REMOTE_ADDR=ip).post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_failures_past_the_limit_are_refused_even_with_the_right_password(operator):
    limit = settings.ADMIN_LOGIN_MAX_ATTEMPTS
    failures = [_attempt(operator.email, "wrong").status_code for _ in range(limit)]

    refused = _attempt(operator.email, PASSWORD)

    assert failures == [200] * limit
    assert refused.status_code == 429
    assert "_auth_user_id" not in refused.client.session


@pytest.mark.django_db
def test_the_username_is_limited_across_addresses(operator):
    limit = settings.ADMIN_LOGIN_MAX_ATTEMPTS
    for n in range(limit):
        _attempt(operator.email, "wrong", ip=f"198.51.100.{n + 1}")

    assert _attempt(operator.email, PASSWORD, ip="192.0.2.99").status_code == 429


@pytest.mark.django_db
def test_the_address_is_limited_across_usernames(operator):
    limit = settings.ADMIN_LOGIN_MAX_ATTEMPTS
    for n in range(limit):
        _attempt(f"guess{n}@people.example", "wrong")

    assert _attempt(operator.email, PASSWORD).status_code == 429
    assert _attempt(operator.email, PASSWORD, ip="192.0.2.99").status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_count(operator):
    limit = settings.ADMIN_LOGIN_MAX_ATTEMPTS
    for _ in range(limit - 1):
        _attempt(operator.email, "wrong")
    assert _attempt(operator.email, PASSWORD).status_code == 302

    statuses = [_attempt(operator.email, "wrong").status_code for _ in range(limit - 1)]

    assert 429 not in statuses


@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_get_no_more_password_checks_than_the_limit(operator):
    limit = settings.ADMIN_LOGIN_MAX_ATTEMPTS

    def attempt(_):
        try:
            return _attempt(operator.email, "wrong").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(4 * limit)))

    # Each attempt counts against its address and its username at once; interleaved
    # increments may refuse one more, never admit one more.
    assert 1 <= statuses.count(200) <= limit
    assert statuses.count(200) + statuses.count(429) == 4 * limit


@pytest.mark.django_db
def test_partner_portals_have_no_admin(tenant_a):
    response = tenant_a.client().post(LOGIN, {"username": "x", "password": "y"})

    assert response.status_code == 404
