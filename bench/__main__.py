"""`python -m bench` (`make bench`): run each size (BENCH_SIZES, default small then large) in
a process of its own and write bench/results.json and bench/RESULTS.md.

Environment: BENCH_SCALE (1 = the issue's full size: 1,000 partners, 50,000 customers,
1,000,000 tickets, 4,000,000 messages, 500,000 invoices; the small set is 1 % of it),
BENCH_DURATION (seconds of load per page, 15), BENCH_CONNECTIONS (8), BENCH_WORKERS
(gunicorn workers; gunicorn.conf.py's by default), BENCH_REUSE=1 (keep databases already seeded at the same size),
BENCH_IMPORT_LINES (reconciliation file of the large run, 500,000 × scale),
BENCH_PDF_LETTERS (20), BENCH_NOTES (a Markdown file appended to the report), BENCH_SEED_ONLY=1
(create and seed the databases, then stop: measure later with BENCH_REUSE=1). Needs DATABASE_URL / DATABASE_OWNER_URL / REDIS_URL (the devstack
sets them) and wrk (installed from the system's packages when missing, if possible)."""

from __future__ import annotations

# ruff: noqa: S603, S607 — the benchmark starts its own processes (itself, wrk, apt-get)
import json
import os
import secrets
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil

from . import report
from .config import Config

REPO = Path(__file__).resolve().parent.parent


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("[bench] installing wrk", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed for the load phase (apt-get install wrk)")


def main() -> int:
    ensure_wrk()
    config = Config.from_env()
    env = dict(os.environ)
    # One secret for the sign-in process and the servers (sessions are signed with it).
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    results: dict = {"sizes": {}}
    previous = REPO / "bench" / "results.json"
    if previous.exists():
        # Sizes not run this time keep their last figures (BENCH_SIZES=large, say).
        results["sizes"] = json.loads(previous.read_text()).get("sizes", {})
    for size in config.sizes_to_run:
        process = subprocess.run(
            [sys.executable, "-m", "bench.run", size],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        if process.returncode != 0:
            print(f"[bench] the {size} run failed", file=sys.stderr)
            return process.returncode
        if env.get("BENCH_SEED_ONLY", "").lower() in {"1", "true", "yes", "on"}:
            continue
        results["sizes"][size] = json.loads(process.stdout.strip().splitlines()[-1])
    if env.get("BENCH_SEED_ONLY", "").lower() in {"1", "true", "yes", "on"}:
        print("[bench] seeded; measure with BENCH_REUSE=1", file=sys.stderr)
        return 0
    results["meta"] = {
        "finished_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30),
        "scale": config.scale,
        "duration": config.duration,
        "connections": config.connections,
        "workers": config.workers,
        # Other work on the machine while the benchmark ran (the ratios to the bare view,
        # measured in the same minutes, are the figures to compare).
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    notes = os.environ.get("BENCH_NOTES", "").strip()
    report.write(results, notes_file=Path(notes) if notes else None)
    print(report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
