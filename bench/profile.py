"""Profile one page of a seeded benchmark database: its SQL (with EXPLAIN ANALYZE of the
slowest statements) and where the Python time goes.

    python -m bench.profile small|large agent_ticket_list [--explain 3] [--cprofile 25]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("size")
    parser.add_argument("page")
    parser.add_argument("--explain", type=int, default=3)
    parser.add_argument("--cprofile", type=int, default=25)
    parser.add_argument("--templates", type=int, default=0, help="requests to time per template")
    args = parser.parse_args(argv)

    from . import database
    from .run import db_name, pages, server_env

    os.environ["BENCH_APP_URL"] = os.environ["DATABASE_URL"]
    os.environ.update(server_env(args.size))
    # Owner: the sign-in rows are written, and EXPLAIN runs in the same scope as the page.
    os.environ["DATABASE_URL"] = database.url_for(database.owner_url(), db_name(args.size))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .run import sign_in

    page = pages(sign_in(label="bench-profile"))[args.page]
    headers = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1"}
    for name, value in page["headers"].items():
        headers["HTTP_" + name.upper().replace("-", "_")] = value
    client = Client(**headers)
    client.get(page["path"])  # warm
    timings = []

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(((time.perf_counter() - started) * 1000, sql, params))

    started = time.perf_counter()
    with CaptureQueriesContext(connection), connection.execute_wrapper(timer):
        response = client.get(page["path"])
    total = (time.perf_counter() - started) * 1000
    sql_ms = sum(t for t, _s, _p in timings)
    print(f"{args.page}: HTTP {response.status_code}, {total:.1f} ms, {len(timings)} queries, "
          f"{sql_ms:.1f} ms in SQL")  # fmt: skip
    for ms, sql, _params in timings:
        print(f"  {ms:8.2f} ms  {sql[:160]}")
    for ms, sql, params in sorted(timings, key=lambda row: -row[0])[: args.explain]:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        print(f"\n-- EXPLAIN ANALYZE ({ms:.1f} ms)\n{sql[:2000]}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('csp.partner_id', '1', false)")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print("   ", line)
    if args.templates:
        template_times(lambda: client.get(page["path"]), args.templates)
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            client.get(page["path"])
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        stats.sort_stats("cumulative").print_stats(args.cprofile * 3)
    return 0


def template_times(request, times: int) -> None:
    """Each template's own rendering time per request (its includes' time not counted in it)."""
    from django.template import base, loader_tags

    own: dict[str, float] = {}
    calls: dict[str, int] = {}
    stack: list[float] = []  # time spent in the children of each open template or block

    def timing(original, name):
        def timed(self, context):
            stack.append(0.0)
            started = time.perf_counter()
            try:
                return original(self, context)
            finally:
                spent = time.perf_counter() - started
                children = stack.pop()
                key = name(self)
                own[key] = own.get(key, 0) + spent - children
                calls[key] = calls.get(key, 0) + 1
                if stack:
                    stack[-1] += spent

        return timed

    originals = (base.Template._render, loader_tags.BlockNode.render)
    base.Template._render = timing(originals[0], lambda self: self.origin.template_name)
    loader_tags.BlockNode.render = timing(
        originals[1], lambda self: f"{{% block {self.name} %}} ({self.origin.template_name})"
    )
    try:
        started = time.perf_counter()
        for _ in range(times):
            request()
        total = (time.perf_counter() - started) * 1000 / times
    finally:
        base.Template._render, loader_tags.BlockNode.render = originals
    print(f"\n{total:.1f} ms per request; own rendering time per template:")
    for name, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"  {seconds * 1000 / times:7.2f} ms  {calls[name] / times:6.1f}×  {name}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
