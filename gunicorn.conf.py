"""gunicorn's settings for the portal's web processes: the image reads them (gunicorn loads
this file from its working directory), and the benchmark serves with them.

Sync workers, one per core plus one. A request here is mostly Python (templates, the ORM)
with short waits on PostgreSQL and Redis, so one spare worker covers those waits; more
workers only take turns on the same cores. Measured on 2 cores with the agent ticket list
at 8 clients: 2 workers 129 req/s (p99 76 ms), 3 workers 133 (85 ms), 4 workers 115
(110 ms), 6 workers 114 (198 ms). Set WEB_CONCURRENCY where the cores a container may use
are fewer than those it sees (a CPU quota).
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)) + 1)
