"""One size of the benchmark, in a process whose Django connects to that size's database as
the owner role: create, migrate and seed it (or keep it, with BENCH_REUSE), sign people in,
serve it with gunicorn as the app role, load each page with wrk, then run the background
jobs in processes of their own. Prints one JSON object on its last line.

    python -m bench.run small|large
"""

from __future__ import annotations

# ruff: noqa: S603 — the benchmark starts its own processes (gunicorn, wrk, its jobs)
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import psutil

from . import database
from .config import Config

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var" / "bench"
BIN = Path(sys.executable).parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
PARTNER_PREFIX = "/p/bench-0001"
SEARCH_QUERY = "quarantine"
# Pages also loaded by a single client (their latency without queueing).
ONE_CLIENT_PAGES = ("search",)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def db_name(size: str) -> str:
    return f"csp_bench_{size}"


# -- data -----------------------------------------------------------------------------------


def prepare(size: str, config: Config) -> dict:
    """The seeded database of this size (reused when BENCH_REUSE and already seeded so)."""
    from django.core.management import call_command
    from django.db import connection

    sizes = config.sizes(size)
    name = db_name(size)
    wanted = {"sizes": sizes.as_dict(), "seeded": True}
    found = database.marker(name)
    if config.reuse and found and found.get("sizes") == wanted["sizes"]:
        log(f"{name}: reusing the seeded database ({sizes}); applying new migrations")
        call_command("migrate", verbosity=0, interactive=False)
        from .jobs import undo_import, undo_sweep

        # The pages are measured on the data as seeded, not on the last run's jobs' output.
        undo_import()
        undo_sweep()
        with connection.cursor() as cursor:
            # A migration may have rewritten rows (dead tuples, a stale visibility map that
            # would keep index-only scans from being index-only): as after a fresh load.
            cursor.execute("VACUUM ANALYZE")
        connection.close()
        return found
    log(f"{name}: creating and migrating")
    connection.close()
    database.recreate(name)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - started
    from .seed import Seeder

    log(f"{name}: seeding {sizes}")
    result = Seeder(sizes, log=log).run()
    result["timings_s"]["migrate"] = round(migrate_s, 1)
    data = wanted | {"seed": result}
    connection.close()
    database.mark(name, data)
    return data


def sign_in(label: str = "bench") -> dict:
    """Sessions for the partner's global admin and a customer admin, and an API token; the
    staff member has a TOTP authenticator (the partner requires two-factor sign-in)."""
    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from csp_portal.accounts.models import CustomerContact, Membership, Partner
    from csp_portal.accounts.tenancy import partner_scope
    from csp_portal.api.models import ApiToken
    from csp_portal.api.services import api_token_create
    from tickets.models import Ticket

    def session_for(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    partner = Partner.objects.get(pk=1)
    with partner_scope(partner):
        staff = (
            Membership.objects.for_partner(partner)
            .filter(roles__contains=["global_admin"])
            .select_related("user")
            .order_by("pk")
            .first()
            .user
        )
        contact = (
            CustomerContact.objects.for_partner(partner)
            .select_related("user")
            .order_by("customer_id")
            .first()
        )
        if not Authenticator.objects.filter(user=staff, type="totp").exists():
            Authenticator.objects.create(
                user=staff, type="totp", data={"secret": "bench"}, created_at=timezone.now()
            )
        ApiToken.objects.for_partner(partner).filter(name=label).delete()
        _token, key = api_token_create(
            partner=partner,
            name=label,
            user=staff,
            scopes=["tickets:read"],
            created_by=staff,
            rate_limit_per_minute=10_000_000,
        )
        ticket = (
            Ticket.objects.for_partner(partner)
            .filter(status__in=Ticket.OPEN_STATUSES)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
    return {
        "staff_session": session_for(staff),
        "customer_session": session_for(contact.user),
        "api_key": key,
        "ticket_id": ticket,
    }


def pages(login: dict) -> dict[str, dict]:
    staff = {"Cookie": f"sessionid={login['staff_session']}"}
    customer = {"Cookie": f"sessionid={login['customer_session']}"}
    api = {"Authorization": f"Bearer {login['api_key']}", "Accept": "application/json"}
    p = PARTNER_PREFIX
    return {
        "bare_view": {"path": "/bench/bare", "headers": {}},
        "agent_ticket_list": {"path": f"{p}/staff/tickets/", "headers": staff},
        "ticket_page": {"path": f"{p}/staff/tickets/{login['ticket_id']}/", "headers": staff},
        "customer_home": {"path": f"{p}/", "headers": customer},
        "customer_ticket_list": {"path": f"{p}/requests/", "headers": customer},
        "api_ticket_list": {"path": f"{p}/api/v1/tickets/", "headers": api},
        "search": {"path": f"{p}/staff/tickets/?view=all&q={SEARCH_QUERY}", "headers": staff},
        "staff_dashboard": {"path": f"{p}/staff/", "headers": staff},
        "overdue_dashboard": {"path": f"{p}/staff/billing/", "headers": staff},
    }


# -- serving and loading ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(size: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database.url_for(os.environ["BENCH_APP_URL"], db_name(size)),
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="false",
        EMAIL_URL=env.get("EMAIL_URL") or "consolemail://",
        INBOUND_EMAIL_SECRET=env.get("INBOUND_EMAIL_SECRET") or "bench-inbound-secret",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_gunicorn(size: str, config: Config, port: int) -> subprocess.Popen:
    VAR.mkdir(parents=True, exist_ok=True)
    if not (VAR / "static" / "staticfiles.json").exists():
        # Once (minutes on a busy machine): `rm -rf var/bench/static` after changing assets.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=REPO,
            env=server_env(size),
            check=True,
        )
    log_file = open(VAR / f"gunicorn-{size}.log", "w")  # noqa: SIM115 — lives with the server
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "csp_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(config.workers),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=server_env(size),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _headers, _body = fetch(port, "/bench/bare", {})
            if status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {VAR / f'gunicorn-{size}.log'}")
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def fetch(port: int, path: str, headers: dict) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"X-Forwarded-Proto": "https", **headers})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def probe(port: int, page: dict, times: int = 5) -> dict:
    """Status, SQL statements and single-client latency of a page (after a first request)."""
    statuses, counts, latencies = [], [], []
    for _ in range(times + 1):
        started = time.perf_counter()
        status, headers, body = fetch(port, page["path"], page["headers"])
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.append(status)
        counts.append(int(headers.get("x-query-count", -1)))
    return {
        "status": statuses[-1],
        "queries": statistics.median_low(counts[1:]),
        "queries_first": counts[0],
        "single_client_ms": round(statistics.median(latencies[1:]), 1),
        "bytes": len(body),
    }


class RssWatch:
    """The largest RSS any gunicorn worker (a child of the master) reaches."""

    def __init__(self, master_pid: int):
        self.master = psutil.Process(master_pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for child in self.master.children():
                try:
                    self.peak = max(self.peak, child.memory_info().rss)
                except psutil.Error:
                    pass
            self._stop.wait(0.25)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def wrk(port: int, page: dict, config: Config) -> dict:
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{min(2, config.connections)}",
        f"-c{config.connections}",
        f"-d{config.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        "-H",
        "X-Forwarded-Proto: https",
    ]
    for name, value in page["headers"].items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{page['path']}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^BENCH_JSON (.*)$", output, re.MULTILINE)
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "errors": raw["non2xx"] + raw["connect_errors"] + raw["read_errors"] + raw["timeouts"],
    }


def load(size: str, config: Config, login: dict) -> dict:
    port = free_port()
    server = start_gunicorn(size, config, port)
    results = {}
    try:
        for name, page in pages(login).items():
            result = probe(port, page)
            if result["status"] != 200:
                log(f"{name}: HTTP {result['status']} — not loaded")
                results[name] = result
                continue
            with RssWatch(server.pid) as watch:
                result |= wrk(port, page, config)
            result["worker_peak_rss_mb"] = round(watch.peak / 2**20, 1)
            if name in ONE_CLIENT_PAGES:
                # The search itself, without waiting behind seven other clients' requests.
                result["one_client"] = wrk(port, page, replace(config, connections=1))
            results[name] = result
            log(
                f"{size} {name}: {result['rps']} req/s, p50 {result['p50_ms']} ms, "
                f"p99 {result['p99_ms']} ms, {result['queries']} queries"
            )
    finally:
        stop(server)
    return results


# -- background jobs -------------------------------------------------------------------------


def job(size: str, *args: str) -> dict:
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "bench.jobs", *args],
        cwd=REPO,
        env=server_env(size) | {"LOG_LEVEL": "ERROR"},
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        log(f"job {args}: failed\n{process.stderr[-3000:]}")
        return {"error": process.stderr.strip().splitlines()[-1] if process.stderr else "failed"}
    result = json.loads(process.stdout.strip().splitlines()[-1])
    log(f"{size} job {args[0]}: {result} ({time.perf_counter() - started:.0f} s)")
    return result


def main(size: str) -> int:
    import django

    config = Config.from_env()
    owner = database.owner_url()
    os.environ["BENCH_APP_URL"] = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = database.url_for(owner, db_name(size))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()

    data = prepare(size, config)
    if os.environ.get("BENCH_SEED_ONLY", "").lower() in {"1", "true", "yes", "on"}:
        print(json.dumps({"size": size, "sizes": data["sizes"], "seed": data.get("seed")}))
        return 0
    login = sign_in()
    result = {
        "size": size,
        "database": db_name(size),
        "sizes": data["sizes"],
        "seed": data.get("seed"),
        "pages": load(size, config, login),
    }
    # The sweep changes the data (reminders, suspensions), so the pages are measured first.
    result["sweep"] = job(size, "sweep")
    result["pdf"] = job(size, "pdf", str(config.pdf_letters))
    lines = config.import_lines if size == "large" else max(config.import_lines // 100, 100)
    result["reconciliation_import"] = job(size, "import", str(lines))
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
