"""gunicorn's settings for the portal's web processes: the image reads them (gunicorn loads
this file from its working directory), and the benchmark serves with them.

Sync workers, one per core (two at least). A request here is mostly Python (templates, the
ORM): a page takes about 13 ms of CPU and waits for PostgreSQL for 2 to 4 ms of it, and where
PostgreSQL runs on the same machine that wait is itself CPU on the same cores. A worker more
than the cores then only takes turns with the others, and a request waits behind another.
Measured on 2 cores with PostgreSQL and Redis alongside, 8 clients, two runs each, 2 workers
against 3: the agent ticket list 117-118 req/s (p99 87-102 ms) against 108-109 (113-135 ms),
the ticket page 108 (p99 90 ms) against 104 (101-103 ms), search 101-109 (p95 84-91 ms)
against 100 (97-99 ms). Where PostgreSQL is on another host a worker's wait leaves its core
free: there, or where a CPU quota gives a container fewer cores than it sees, set
WEB_CONCURRENCY (one per core plus one suits a remote database).
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY") or max(len(os.sched_getaffinity(0)), 2))
