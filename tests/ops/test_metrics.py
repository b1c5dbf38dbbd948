"""/metrics: Prometheus text, on the platform host only, behind a bearer token (or loopback
when no token is set); counters shared by every process through Redis."""

import re
import subprocess
import sys

import pytest
from celery import shared_task
from django.conf import settings
from django.test import Client

from csp_portal.ops import metrics
from tests.tasks import purge_tasks


@shared_task(name="tests.ops.fail")
def fail(*, partner_id):
    raise RuntimeError("boom")


@shared_task(name="tests.ops.retry", bind=True, max_retries=1)
def retry(self, *, partner_id):
    raise self.retry(countdown=60)


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    return samples


def _scrape(**extra) -> str:
    response = Client(**extra).get("/metrics")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


@pytest.mark.django_db
def test_requests_are_counted_by_route_and_status(tenant_a):
    client = tenant_a.client()
    client.get("/support/")
    client.get("/support/")
    client.get("/no-such-page/")

    samples = _samples(_scrape())

    assert (
        samples[
            'csp_http_requests_total{method="GET",route="portal:support-offering",status="200"}'
        ]
        == 2
    )
    assert samples['csp_http_requests_total{method="GET",route="unmatched",status="404"}'] == 1
    assert samples['csp_http_request_duration_seconds_count{route="portal:support-offering"}'] == 2
    assert (
        samples[
            'csp_http_request_duration_seconds_bucket{le="+Inf",route="portal:support-offering"}'
        ]
        == 2
    )


@pytest.mark.django_db
def test_the_text_is_prometheus_exposition_format():
    metrics.sweep_outcome("reminder_sent")

    text = _scrape()

    assert "# TYPE csp_http_requests_total counter" in text
    assert "# TYPE csp_http_request_duration_seconds histogram" in text
    sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+Inf]+$')
    for line in text.splitlines():
        assert line.startswith("#") or sample.match(line), line


@pytest.mark.django_db
def test_task_runs_failures_and_retries_are_counted():
    fail.apply(kwargs={"partner_id": 1})
    retry.apply(kwargs={"partner_id": 1})

    samples = _samples(_scrape())

    assert samples['csp_celery_task_runs_total{state="FAILURE",task="tests.ops.fail"}'] == 1
    assert samples['csp_celery_task_failures_total{task="tests.ops.fail"}'] == 1
    assert samples['csp_celery_task_retries_total{task="tests.ops.retry"}'] == 1
    assert samples['csp_celery_task_duration_seconds_count{task="tests.ops.fail"}'] == 1


@pytest.mark.django_db
def test_queue_depth_is_read_from_the_broker():
    purge_tasks()
    fail.delay(partner_id=1)
    fail.delay(partner_id=1)

    samples = _samples(_scrape())
    purge_tasks()

    assert samples['csp_celery_queue_depth{queue="celery"}'] == 2


@pytest.mark.django_db
def test_sweep_outcomes_from_the_billing_hook_and_other_processes_add_up():
    metrics.sweep_outcome("suspended", 2)
    code = (
        "import django; django.setup(); from csp_portal.ops import metrics; "
        "metrics.sweep_outcome('suspended'); metrics.sweep_finished(result='ok')"
    )
    subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, check=True, timeout=60)

    samples = _samples(_scrape())

    assert samples['csp_collections_sweep_outcomes_total{outcome="suspended"}'] == 3
    assert samples['csp_collections_sweep_runs_total{result="ok"}'] == 1


@pytest.mark.django_db
def test_without_a_token_only_this_machine_may_scrape():
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 403
    assert Client(HTTP_X_FORWARDED_FOR="203.0.113.9").get("/metrics").status_code == 403


@pytest.mark.django_db
def test_with_a_token_it_is_required(settings):
    settings.METRICS_TOKEN = "s3cret-token"

    assert Client().get("/metrics").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics").status_code == 401
    assert _scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")


@pytest.mark.django_db
def test_partner_portals_do_not_serve_metrics(tenant_a):
    assert tenant_a.client().get("/metrics").status_code == 404


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.mark.django_db
def test_an_observation_is_kept_in_its_own_bucket_and_shown_cumulated():
    metrics.observe_request(route="demo:page", method="GET", status=200, seconds=0.02)
    metrics.observe_request(route="demo:page", method="GET", status=200, seconds=3.0)

    stored = metrics._client().hgetall(metrics.HASH_KEY)
    text = _scrape()

    kept = {k: float(v) for k, v in stored.items() if "demo:page" in k and "_bucket" in k}
    assert kept == {
        'csp_http_request_duration_seconds_bucket{le="0.025",route="demo:page"}': 1,
        'csp_http_request_duration_seconds_bucket{le="5.0",route="demo:page"}': 1,
    }
    buckets = _lines(text, "csp_http_request_duration_seconds_bucket{le=")
    shown = [line.split(" ")[-1] for line in buckets if 'route="demo:page"' in line]
    bounds = [
        b
        for line in buckets
        if 'route="demo:page"' in line
        for b in re.findall(r'le="([^"]+)"', line)
    ]
    assert bounds == [repr(float(b)) for b in metrics.LATENCY_BUCKETS] + ["+Inf"]
    assert shown == ["0", "0", "1", "1", "1", "1", "1", "1", "1", "2", "2", "2"]
    samples = _samples(text)
    assert samples['csp_http_request_duration_seconds_sum{route="demo:page"}'] == pytest.approx(
        3.02
    )
    assert samples['csp_http_request_duration_seconds_count{route="demo:page"}'] == 2


@pytest.mark.django_db
def test_a_label_with_quotes_and_backslashes_keeps_its_histogram():
    task = 'odd "task" \\ name'
    metrics.task_finished(task=task, state="SUCCESS", seconds=0.07)

    samples = _samples(_scrape())

    inf = metrics._series("csp_celery_task_duration_seconds_bucket", {"task": task, "le": "+Inf"})
    first = metrics._series("csp_celery_task_duration_seconds_bucket", {"task": task, "le": "0.1"})
    assert samples[inf] == 1
    assert samples[first] == 1
