"""The web server's worker count (gunicorn.conf.py), as gunicorn itself reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def workers(**environment: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"} | environment
    printed = subprocess.run(
        [str(GUNICORN), "--print-config", "csp_portal.wsgi:application"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    line = next(line for line in printed.splitlines() if line.startswith("workers "))
    return int(line.split("=")[1])


def test_one_worker_per_core_and_two_at_least():
    assert workers() == max(len(os.sched_getaffinity(0)), 2)


def test_web_concurrency_sets_the_count():
    assert workers(WEB_CONCURRENCY="7") == 7
