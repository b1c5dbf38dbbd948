"""The session engine: Django's database sessions, read through a compiled statement."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from csp_portal.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved(**data) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_each_session_reads_its_own_data():
    assert settings.SESSION_ENGINE == "csp_portal.sessions"
    first, second = _saved(who="ann"), _saved(who="bob")

    assert SessionStore(first)["who"] == "ann"
    assert SessionStore(second)["who"] == "bob"
    assert SessionStore(first).load() == {"who": "ann"}


def test_a_missing_or_expired_session_is_a_new_empty_one():
    key = _saved(who="ann")
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))

    expired = SessionStore(key)
    unknown = SessionStore("x" * 32)

    assert expired.load() == {} and expired.session_key is None
    assert unknown.load() == {} and unknown.session_key is None
    unknown["who"] = "eve"
    unknown.save()
    assert unknown.session_key != "x" * 32  # a fresh key, never the one the client sent
    assert SessionStore(unknown.session_key)["who"] == "eve"


def test_signing_in_and_out_goes_through_it(tenant_a):
    client = tenant_a.client(tenant_a.admin.user)

    assert client.get("/staff/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).get("_auth_user_id") == str(tenant_a.admin.user.pk)
    client.logout()
    assert SessionStore(key).load() == {}
