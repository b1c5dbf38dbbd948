"""Metrics in Prometheus's text format, kept in Redis.

Why Redis and not prometheus_client's per-process registries: the portal runs several
gunicorn workers and Celery processes, and beyond one machine several web and worker
containers behind a load balancer. Counters kept in one Redis hash are shared by all of them,
so any web container answers /metrics with the whole deployment's numbers, a restarted
process loses nothing, and there is no multiprocess directory to clean between restarts.
Each update is one pipelined round trip; when Redis is unreachable the update is dropped
(metrics never fail a request or a task).

Counters and histograms only; gauges (queue depth) are read when /metrics is scraped.

A histogram observation adds to the one bucket its value falls in, its sum and its count:
three fields, not one per bound at or above the value (twelve for a fast request). /metrics
adds the buckets up into Prometheus's cumulative `le` series. The series names of a route
are built once per process.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from functools import cache, lru_cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# The hash of the version that keeps each bucket's own count (before, "csp:metrics" kept
# them cumulated): the counters start afresh with it, which Prometheus reads as a reset.
HASH_KEY = "csp:metrics:2"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
HISTOGRAM_BUCKETS = {
    "csp_http_request_duration_seconds": LATENCY_BUCKETS,
    "csp_celery_task_duration_seconds": TASK_BUCKETS,
}
INF = "+Inf"

# name -> (type, help)
METRICS = {
    "csp_http_requests_total": ("counter", "HTTP requests by route name, method and status."),
    "csp_http_request_duration_seconds": (
        "histogram",
        "Time to answer an HTTP request, by route name.",
    ),
    "csp_celery_task_runs_total": ("counter", "Celery task runs by task and final state."),
    "csp_celery_task_failures_total": ("counter", "Celery tasks that raised, by task."),
    "csp_celery_task_retries_total": ("counter", "Celery task retries, by task."),
    "csp_celery_task_duration_seconds": ("histogram", "Celery task run time, by task."),
    "csp_collections_sweep_outcomes_total": (
        "counter",
        "Collections sweep actions by outcome (reminder sent, suspended, reinstated, ...).",
    ),
    "csp_collections_sweep_runs_total": ("counter", "Collections sweep runs by result."),
    "csp_celery_queue_depth": ("gauge", "Messages waiting in a Celery queue."),
}


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
    )


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _series(name: str, labels: dict) -> str:
    if not labels:
        return name
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _write(increments: list[tuple[str, float]]) -> None:
    try:
        pipe = _client().pipeline(transaction=False)
        for field, amount in increments:
            pipe.hincrbyfloat(HASH_KEY, field, amount)
        pipe.execute()
    except redis.RedisError as error:
        logger.debug("metrics not recorded: %s", error)


@lru_cache(maxsize=1024)
def _histogram_fields(name: str, label: str, value: str) -> tuple[tuple[str, ...], str, str]:
    """A histogram's fields for one label: each bucket's (the bounds', then +Inf's), the
    sum's and the count's."""
    labels = {label: value}
    bounds = [repr(float(bound)) for bound in HISTOGRAM_BUCKETS[name]] + [INF]
    buckets = tuple(_series(f"{name}_bucket", {**labels, "le": bound}) for bound in bounds)
    return buckets, _series(f"{name}_sum", labels), _series(f"{name}_count", labels)


def _histogram(name: str, label: str, value: str, seconds: float) -> list[tuple[str, float]]:
    buckets, sum_field, count_field = _histogram_fields(name, label, value)
    bounds = HISTOGRAM_BUCKETS[name]
    bucket = next((i for i, bound in enumerate(bounds) if seconds <= bound), len(bounds))
    return [(buckets[bucket], 1), (sum_field, seconds), (count_field, 1)]


@lru_cache(maxsize=1024)
def _request_field(route: str, method: str, status: int) -> str:
    return _series(
        "csp_http_requests_total", {"route": route, "method": method, "status": str(status)}
    )


# -- what the code records --------------------------------------------------------------------


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    _write(
        [(_request_field(route, method, status), 1)]
        + _histogram("csp_http_request_duration_seconds", "route", route, seconds)
    )


def task_finished(*, task: str, state: str, seconds: float | None) -> None:
    rows = [(_series("csp_celery_task_runs_total", {"task": task, "state": state}), 1)]
    if seconds is not None:
        rows += _histogram("csp_celery_task_duration_seconds", "task", task, seconds)
    _write(rows)


def task_failed(*, task: str) -> None:
    _write([(_series("csp_celery_task_failures_total", {"task": task}), 1)])


def task_retried(*, task: str) -> None:
    _write([(_series("csp_celery_task_retries_total", {"task": task}), 1)])


def sweep_outcome(outcome: str, count: int = 1) -> None:
    """For the collections sweep: count what it did, e.g. sweep_outcome("reminder_sent"),
    sweep_outcome("suspended"), sweep_outcome("reinstated"), sweep_outcome("skipped_paid")."""
    if count:
        _write([(_series("csp_collections_sweep_outcomes_total", {"outcome": outcome}), count)])


def sweep_finished(*, result: str = "ok") -> None:
    """For the collections sweep: one run of one partner ended ("ok" or "failed")."""
    _write([(_series("csp_collections_sweep_runs_total", {"result": result}), 1)])


# -- what /metrics answers --------------------------------------------------------------------


def _queue_depths() -> dict[str, int]:
    queues = getattr(settings, "METRICS_QUEUES", ["celery"])
    try:
        broker = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        pipe = broker.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(queue)
        return dict(zip(queues, pipe.execute(), strict=True))
    except redis.RedisError as error:
        logger.warning("queue depth unavailable: %s", error)
        return {}


def _base_name(series: str) -> str:
    name = series.split("{", 1)[0]
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in METRICS:
            return name[: -len(suffix)]
    return name


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def _unescape(value: str) -> str:
    """A label value as it was before `_escape`."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def _cumulated(stored: dict[str, str]) -> dict[str, float]:
    """The stored series with each histogram's buckets added up as Prometheus reads them:
    every bound's series counts the observations at or below it, +Inf's all of them."""
    series: dict[str, float] = {}
    own: dict[tuple[str, tuple], dict[str, float]] = defaultdict(dict)
    for field, value in stored.items():
        name = field.split("{", 1)[0]
        if name.endswith("_bucket") and name[: -len("_bucket")] in HISTOGRAM_BUCKETS:
            labels = {key: _unescape(text) for key, text in _LABEL.findall(field)}
            bound = labels.pop("le", INF)
            own[(name, tuple(sorted(labels.items())))][bound] = float(value)
        else:
            series[field] = float(value)
    for (name, labels), counts in own.items():
        bounds = [repr(float(b)) for b in HISTOGRAM_BUCKETS[name[: -len("_bucket")]]] + [INF]
        total = 0.0
        for bound in bounds:
            total += counts.get(bound, 0.0)
            series[_series(name, {**dict(labels), "le": bound})] = total
    return series


def _bucket_order(series: str) -> tuple:
    """Sorts a histogram's buckets by their bound (+Inf last), everything else by name."""
    match = re.search(r'le="([^"]+)"', series)
    if not match:
        return (series, 0.0)
    return (series.replace(match.group(0), ""), float(match.group(1)))


def render() -> str:
    """Every series, grouped under its # HELP and # TYPE lines."""
    try:
        stored = _client().hgetall(HASH_KEY)
    except redis.RedisError as error:
        logger.warning("metrics unavailable: %s", error)
        stored = {}
    grouped: dict[str, list[str]] = defaultdict(list)
    cumulated = _cumulated(stored)
    for series in sorted(cumulated, key=_bucket_order):
        grouped[_base_name(series)].append(f"{series} {_number(cumulated[series])}")
    for queue, depth in _queue_depths().items():
        grouped["csp_celery_queue_depth"].append(
            f"{_series('csp_celery_queue_depth', {'queue': queue})} {depth}"
        )
    lines = []
    for name, (kind, help_text) in METRICS.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(grouped.pop(name, []))
    for name, rows in grouped.items():  # anything recorded under an undeclared name
        lines.append(f"# TYPE {name} untyped")
        lines.extend(rows)
    return "\n".join(lines) + "\n"


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
