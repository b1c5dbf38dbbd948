"""The session engine (SESSION_ENGINE): Django's database sessions, with the one read every
signed-in request makes — its session's data — compiled once per process
(csp_portal.compiled) rather than built by the ORM on each request. Writing, expiry and
clearing are Django's own."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from .compiled import CompiledRead

_SESSION_DATA = CompiledRead(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values_list(
        "session_data"
    )[:1],
    key="\x00session-key",
    now=datetime(1901, 1, 1, tzinfo=UTC),
)


class SessionStore(DatabaseSessionStore):
    def load(self):
        rows = _SESSION_DATA.rows(key=self.session_key, now=timezone.now())
        if not rows:  # missing or expired: a new session, as Django's store does
            self._session_key = None
            return {}
        return self.decode(rows[0][0])
