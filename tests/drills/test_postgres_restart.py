"""Drill: PostgreSQL restarts under traffic. Requests in the gap answer a clean 503 with
Retry-After (the page, or a problem document under /api/), never a 500; once the server is
back the same web server answers 200 again (no restart: CONN_HEALTH_CHECKS drops the dead
connections and opens new ones).

Real processes: a second PostgreSQL cluster (pgserver, in a temporary directory) holding a
copy of the drill's committed rows (pg_dump of the test database), gunicorn with two workers
against it, a dedicated Redis, and a client loop in a thread; `pg_ctl stop` / `pg_ctl start`
while the loop runs."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from csp_portal.accounts.models import ContactRole
from csp_portal.api.services import api_token_create
from tests.drills.conftest import django_env, free_port, gunicorn, wait_for, wait_for_http
from tests.drills.web import Browser, session_for
from tests.factories import ContactFactory, PartnerFactory

# pgserver logs every command at INFO, and once more at interpreter exit, after pytest has
# closed its captured streams (a "closed file" traceback at the end of the run).
logging.getLogger("pgserver").setLevel(logging.WARNING)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR is not set"),
]
DOWN_SECONDS = 2.0


class SecondCluster:
    """A PostgreSQL cluster of our own, started the way the embedded one is (pgserver runs it
    as its own system user when we are root), so it can be stopped and started at will."""

    def __init__(self):
        import pgserver

        self.root = Path(tempfile.mkdtemp(prefix="drillpg-", dir="/tmp"))
        self.root.chmod(0o755)
        self.pgdata = self.root / "pg"
        self.server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir, self.port = str(info.socket_dir), int(info.port or 5432)
        self.bin = Path(pgserver.postgres_server.POSTGRES_BIN_PATH)

    def url(self, database: str) -> str:
        return f"postgres://postgres@:{self.port}/{database}?host={quote(self.socket_dir)}"

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._pg_ctl(
            "-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
            "-l", str(self.pgdata / "log"), "start",
        )  # fmt: skip

    def copy_of(self, source_settings: dict, database: str) -> None:
        """The committed contents of the test database, without owners or grants."""
        self.server.psql(f"CREATE DATABASE {database};")
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        # Every partner's rows: the dump reads through row-level security with the bypass on.
        dump_env = {**clean, "PGOPTIONS": "-c csp.rls_bypass=on"}
        dump = subprocess.run(
            [
                str(self.bin / "pg_dump"), "--no-owner", "--no-privileges",
                "--enable-row-security",
                "--host", source_settings["OPTIONS"].get("host") or source_settings["HOST"],
                "--port", str(source_settings["PORT"] or 5432),
                "--username", source_settings["USER"], source_settings["NAME"],
            ],
            capture_output=True, check=True, env=dump_env, timeout=120,
        )  # fmt: skip
        subprocess.run(
            [
                str(self.bin / "psql"), "--quiet", "--set=ON_ERROR_STOP=1",
                "--host", self.socket_dir, "--port", str(self.port), "--username", "postgres",
                "--dbname", database,
            ],
            input=dump.stdout, capture_output=True, check=True, env=clean, timeout=120,
        )  # fmt: skip

    def remove(self) -> None:
        try:
            # pgserver's own cleanup misses a server it did not start itself (ours, after the
            # restart): stop it here first.
            self.stop()
        except Exception:  # noqa: BLE001, S110 - already stopped
            pass
        try:
            self.server.cleanup()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def test_requests_get_503_while_postgresql_restarts_then_200(tmp_path, drill_redis):
    started = time.monotonic()
    partner = PartnerFactory(slug="northwind", display_name="Northwind Cloud")
    contact = ContactFactory(customer__partner=partner, role=ContactRole.ADMIN)
    _token, api_key = api_token_create(
        partner=partner, name="drill", user=contact.user, scopes=["tickets:read"], created_by=None
    )
    session_key = session_for(contact.user)

    cluster = SecondCluster()
    web = None
    try:
        cluster.copy_of(connection.settings_dict, "csp_drill")
        env = django_env(
            redis_url=drill_redis.url,
            database_url=cluster.url("csp_drill"),
            DATABASE_APP_ROLE="",
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = gunicorn(env, tmp_path / "gunicorn.log", port).start()
        wait_for_http(base, web)

        page = Browser(base, f"{partner.slug}.localhost", session_key)
        api = Browser(base, f"{partner.slug}.localhost")
        bearer = {"Authorization": f"Bearer {api_key}"}
        unavailable: list[tuple[str, dict, bytes]] = []
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                for name, client, path, headers in (
                    ("page", page, "/", None),
                    ("api", api, "/api/v1/tickets/", bearer),
                ):
                    status, response_headers, body = client.get(path, headers=headers)
                    if status == 503:
                        unavailable.append((name, response_headers, body))
                time.sleep(0.02)

        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        wait_for(lambda: len(page.seen) >= 5, timeout=30, what="traffic before the restart")
        cluster.stop()
        time.sleep(DOWN_SECONDS)  # the outage itself: traffic keeps running meanwhile
        cluster.start()
        back = len(page.seen)
        wait_for(
            lambda: (
                len(page.seen) >= back + 10 and page.seen[-1][1] == 200 and api.seen[-1][1] == 200
            ),
            timeout=60,
            what="200s after the restart",
        )
        stop.set()
        thread.join(timeout=20)
        assert web.alive(), "the web server must keep running"
    finally:
        if web is not None:
            web.stop()
        cluster.remove()

    statuses = [status for _r, status in page.seen + api.seen]
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    assert unavailable, "no request fell in the outage"
    for name, headers, body in unavailable:
        assert headers.get("Retry-After") == "10"
        if name == "api":
            assert headers["Content-Type"] == "application/problem+json"
            assert b'"status": 503' in body
        else:
            assert headers["Content-Type"].startswith("text/html")
            assert b"briefly unavailable" in body
    assert page.seen[-1][1] == 200 and api.seen[-1][1] == 200
    print(
        f"{len(statuses)} requests: {statuses.count(200)} x 200, {statuses.count(503)} x 503; "
        f"drill took {time.monotonic() - started:.1f}s"
    )
