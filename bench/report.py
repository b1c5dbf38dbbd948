"""bench/results.json and the Markdown report (bench/RESULTS.md), with the issue's targets."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

PAGE_LABELS = {
    "bare_view": "Bare Django view (ceiling)",
    "agent_ticket_list": "Agent ticket list",
    "ticket_page": "Ticket page",
    "customer_home": "Customer portal home",
    "customer_ticket_list": "Customer ticket list",
    "api_ticket_list": "API ticket list",
    "search": "Full-text search",
    "staff_dashboard": "Agent dashboard",
    "overdue_dashboard": "Overdue-accounts dashboard",
}
# Minimum throughput as a share of the bare view's, at the large size (issue 9).
SHARE_TARGETS = {
    "agent_ticket_list": 0.05,
    "ticket_page": 0.05,
    "customer_home": 0.05,
    "customer_ticket_list": 0.05,
    "staff_dashboard": 0.03,
    "overdue_dashboard": 0.03,
}
P99_TARGET_PAGES = {"agent_ticket_list", "ticket_page", "customer_home", "customer_ticket_list"}
P99_TARGET_MS = 100
SEARCH_P95_TARGET_MS = 100
MAX_QUERIES = 12
SWEEP_TARGET_S = 60
MAX_SWEEP_QUERIES_PER_BATCH = 40


def mark(ok: bool | None) -> str:
    return "—" if ok is None else ("pass" if ok else "**miss**")


def ratio(small, large) -> str:
    if not small or large in (None, ""):
        return "—"
    return f"{large / small:.2f}"


def evaluate(results: dict) -> list[dict]:
    """One row per target: the figure, the target and pass/miss."""
    rows = []
    sizes = results.get("sizes", {})
    large = sizes.get("large") or {}
    small = sizes.get("small") or {}
    large_pages = large.get("pages", {})
    small_pages = small.get("pages", {})
    bare = (large_pages.get("bare_view") or {}).get("rps")
    for page, label in PAGE_LABELS.items():
        figure = large_pages.get(page)
        if not figure or page == "bare_view":
            continue
        queries = figure.get("queries")
        small_queries = (small_pages.get(page) or {}).get("queries")
        rows.append(
            {
                "target": f"{label}: ≤ {MAX_QUERIES} queries, same at both sizes",
                "figure": f"{small_queries} → {queries}",
                "ok": queries is not None
                and queries <= MAX_QUERIES
                and (small_queries is None or small_queries == queries),
            }
        )
        if page in SHARE_TARGETS and bare and figure.get("rps") is not None:
            share = figure["rps"] / bare
            rows.append(
                {
                    "target": f"{label}: ≥ {SHARE_TARGETS[page]:.0%} of the bare view",
                    "figure": f"{share:.1%}",
                    "ok": share >= SHARE_TARGETS[page],
                }
            )
        if page in P99_TARGET_PAGES and figure.get("p99_ms") is not None:
            rows.append(
                {
                    "target": f"{label}: p99 < {P99_TARGET_MS} ms",
                    "figure": f"{figure['p99_ms']} ms",
                    "ok": figure["p99_ms"] < P99_TARGET_MS,
                }
            )
        if page == "search" and figure.get("p95_ms") is not None:
            rows.append(
                {
                    "target": f"{label}: p95 < {SEARCH_P95_TARGET_MS} ms (8 clients)",
                    "figure": f"{figure['p95_ms']} ms",
                    "ok": figure["p95_ms"] < SEARCH_P95_TARGET_MS,
                }
            )
            one = figure.get("one_client") or {}
            if one.get("p95_ms") is not None:
                rows.append(
                    {
                        "target": f"{label}: p95 < {SEARCH_P95_TARGET_MS} ms (one client)",
                        "figure": f"{one['p95_ms']} ms ({one['rps']} req/s)",
                        "ok": one["p95_ms"] < SEARCH_P95_TARGET_MS,
                    }
                )
    sweep = large.get("sweep") or {}
    if "wall_s" in sweep:
        rows.append(
            {
                "target": f"Collections sweep: < {SWEEP_TARGET_S} s",
                "figure": f"{sweep['wall_s']} s over {sweep['open_invoices']:,} open invoices",
                "ok": sweep["wall_s"] < SWEEP_TARGET_S,
            }
        )
        small_sweep = small.get("sweep") or {}
        per_batch = sweep["queries"] / max(sweep["batches"], 1)
        small_per_batch = small_sweep.get("queries", 0) / max(small_sweep.get("batches", 1), 1)
        rows.append(
            {
                # Batches counted with each partner's fixed work (policy, run row, scopes).
                "target": "Collections sweep: bounded queries per batch (same at both sizes)",
                "figure": f"{sweep['queries']:,} queries in {sweep['batches']:,} batches "
                f"(≈ {per_batch:.1f} per batch; small ≈ {small_per_batch:.1f})",
                "ok": per_batch <= MAX_SWEEP_QUERIES_PER_BATCH
                and (not small_per_batch or per_batch <= 1.2 * small_per_batch),
            }
        )
        if "rss_growth_mb" in small_sweep:
            rows.append(
                {
                    "target": "Sweep memory bounded (growth small → large)",
                    "figure": f"{small_sweep['rss_growth_mb']} → {sweep['rss_growth_mb']} MB",
                    "ok": sweep["rss_growth_mb"] < 200,
                }
            )
    workers = [
        p.get("worker_peak_rss_mb") for p in large_pages.values() if p.get("worker_peak_rss_mb")
    ]
    if workers:
        rows.append(
            {
                "target": "Web worker peak RSS bounded",
                "figure": f"{max(workers)} MB",
                "ok": max(workers) < 400,
            }
        )
    imported = large.get("reconciliation_import") or {}
    small_imported = small.get("reconciliation_import") or {}
    if "rss_growth_mb" in imported:
        rows.append(
            {
                "target": "Reconciliation import memory bounded (streamed)",
                "figure": f"{small_imported.get('lines')} lines: "
                f"+{small_imported.get('rss_growth_mb')} MB; {imported['lines']:,} lines: "
                f"+{imported['rss_growth_mb']} MB",
                "ok": imported["rss_growth_mb"] < 200,
            }
        )
    return rows


def markdown(results: dict) -> str:
    sizes = results.get("sizes", {})
    out = ["# Benchmark results (`make bench`)", ""]
    meta = results.get("meta", {})
    out += [
        f"Run {meta.get('finished_at', '')} on {meta.get('cpus')} CPUs, "
        f"{meta.get('memory_gb')} GB; BENCH_SCALE={meta.get('scale')}; "
        f"{meta.get('connections')} concurrent clients (wrk) for {meta.get('duration')} s per "
        f"page against gunicorn ({meta.get('workers')} sync workers, DJANGO_DEBUG=false) on "
        "127.0.0.1; PostgreSQL and Redis on the same machine "
        f"(load average at the end: {meta.get('load_average')}).",
        "",
    ]
    for name in ("small", "large"):
        data = sizes.get(name)
        if not data:
            continue
        counts = data.get("sizes", {})
        seed = (data.get("seed") or {}).get("timings_s", {})
        out.append(
            f"- **{name}**: "
            + ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in counts.items())
            + (f"; seeded in {seed.get('total')} s" if seed else " (reused)")
        )
    out += ["", "## Pages", ""]
    out.append(
        "| page | size | req/s | p50 ms | p95 ms | p99 ms | SQL/request | × bare view | errors |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for page, label in PAGE_LABELS.items():
        for name in ("small", "large"):
            data = (sizes.get(name) or {}).get("pages", {})
            figure = data.get(page)
            if not figure:
                continue
            bare = (data.get("bare_view") or {}).get("rps")
            share = f"{figure['rps'] / bare:.1%}" if bare and figure.get("rps") else "—"
            if "rps" not in figure:
                out.append(f"| {label} | {name} | HTTP {figure.get('status')} | | | | | | |")
                continue
            out.append(
                f"| {label} | {name} | {figure['rps']:,} | {figure['p50_ms']} | "
                f"{figure['p95_ms']} | {figure['p99_ms']} | {figure['queries']} | {share} | "
                f"{figure['errors']} |"
            )
    out += ["", "## Small → large ratio (large ÷ small)", ""]
    out.append("| page | req/s | p50 | p99 | SQL/request |")
    out.append("|---|---:|---:|---:|---:|")
    small_pages = (sizes.get("small") or {}).get("pages", {})
    large_pages = (sizes.get("large") or {}).get("pages", {})
    for page, label in PAGE_LABELS.items():
        s, g = small_pages.get(page), large_pages.get(page)
        if not s or not g or "rps" not in s or "rps" not in g:
            continue
        out.append(
            f"| {label} | {ratio(s['rps'], g['rps'])} | {ratio(s['p50_ms'], g['p50_ms'])} | "
            f"{ratio(s['p99_ms'], g['p99_ms'])} | {ratio(s['queries'], g['queries'])} |"
        )
    out += ["", "## Background work and memory", ""]
    out.append("| figure | small | large | large ÷ small |")
    out.append("|---|---:|---:|---:|")
    jobs = [
        ("sweep", "open_invoices", "Sweep: open invoices"),
        ("sweep", "overdue_invoices", "Sweep: overdue invoices"),
        ("sweep", "wall_s", "Sweep: wall time (s)"),
        ("sweep", "queries", "Sweep: SQL queries"),
        ("sweep", "reminders_queued", "Sweep: reminders queued"),
        ("sweep", "suspensions_requested", "Sweep: suspensions requested"),
        ("sweep", "rss_growth_mb", "Sweep: peak RSS growth (MB)"),
        ("pdf", "letters_per_s", "PDF reminder letters per second"),
        ("reconciliation_import", "lines", "Import: lines"),
        ("reconciliation_import", "wall_s", "Import: wall time (s)"),
        ("reconciliation_import", "queries", "Import: SQL queries"),
        ("reconciliation_import", "rss_growth_mb", "Import: peak RSS growth (MB)"),
    ]
    for job, key, label in jobs:
        s = ((sizes.get("small") or {}).get(job) or {}).get(key)
        g = ((sizes.get("large") or {}).get(job) or {}).get(key)
        if s is None and g is None:
            continue
        out.append(f"| {label} | {s if s is not None else '—'} | "
                   f"{g if g is not None else '—'} | {ratio(s, g)} |")  # fmt: skip
    workers = [p.get("worker_peak_rss_mb") for p in large_pages.values() if p.get("worker_peak_rss_mb")]  # fmt: skip
    small_workers = [p.get("worker_peak_rss_mb") for p in small_pages.values() if p.get("worker_peak_rss_mb")]  # fmt: skip
    if workers or small_workers:
        s = max(small_workers) if small_workers else None
        g = max(workers) if workers else None
        out.append(f"| Web worker peak RSS under load (MB) | {s} | {g} | {ratio(s, g)} |")
    out += ["", "## Targets (issue 9)", "", "| target | measured (large) | result |"]
    out.append("|---|---|---|")
    for row in evaluate(results):
        out.append(f"| {row['target']} | {row['figure']} | {mark(row['ok'])} |")
    notes = results.get("notes")
    if notes:
        out += ["", notes.strip()]
    return "\n".join(out) + "\n"


def write(results: dict, directory: Path = HERE, notes_file: Path | None = None) -> None:
    """`notes_file` (Markdown: how the run was taken, profiles, before/after) is appended to
    the report; `python -m bench` takes it from BENCH_NOTES."""
    if notes_file is not None and notes_file.exists():
        results = results | {"notes": notes_file.read_text()}
    (directory / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (directory / "RESULTS.md").write_text(markdown(results))
