"""Every response carries a request id; every log record carries it and the partner id, in
requests and in Celery tasks; production logs are JSON lines."""

import json
import logging
import os
import secrets
import subprocess
import sys

import pytest
from celery import shared_task
from django.conf import settings

from csp_portal.ops.logging import ContextFilter, JsonFormatter

task_logger = logging.getLogger("tests.ops.task")


@shared_task(name="tests.ops.log_something")
def log_something(*, partner_id):
    task_logger.info("working for the partner")


@pytest.fixture
def json_lines():
    """Records of the portal's loggers, formatted as production formats them."""
    stream = []

    class Collect(logging.Handler):
        def emit(self, record):
            stream.append(json.loads(self.format(record)))

    handler = Collect()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [
        logging.getLogger(name) for name in ("csp_portal", "tests.ops.task", "django.request")
    ]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_given_request_id_is_echoed_and_logged_with_the_partner(tenant_a, json_lines):
    response = tenant_a.client().get("/support/", HTTP_X_REQUEST_ID="abc-123")

    access = [line for line in json_lines if line["logger"] == "csp_portal.request"]
    assert response["X-Request-ID"] == "abc-123"
    assert access[-1]["request_id"] == "abc-123"
    assert access[-1]["partner_id"] == tenant_a.partner.pk
    assert access[-1]["route"] == "portal:support-offering"
    assert access[-1]["status"] == 200


@pytest.mark.django_db
def test_a_missing_or_hostile_request_id_is_replaced(tenant_a):
    fresh = tenant_a.client().get("/support/")
    hostile = tenant_a.client().get("/support/", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")

    assert len(fresh["X-Request-ID"]) == 32
    assert hostile["X-Request-ID"] != "x\r\nSet-Cookie: a=b" and len(hostile["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_django_request_warnings_carry_the_request_id(tenant_a, json_lines):
    response = tenant_a.client().get("/no-such-page/", HTTP_X_REQUEST_ID="lost-1")

    warnings = [line for line in json_lines if line["logger"] == "django.request"]
    assert response.status_code == 404
    assert warnings and warnings[-1]["request_id"] == "lost-1"


def test_celery_tasks_log_their_task_id_and_partner(json_lines):
    result = log_something.apply(kwargs={"partner_id": 42}, task_id="task-0001")

    line = next(line for line in json_lines if line["logger"] == "tests.ops.task")
    assert result.successful()
    assert line["task_id"] == "task-0001"
    assert line["partner_id"] == 42
    assert line["task_name"] == "tests.ops.log_something"


def test_production_logs_are_json_lines():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "csp_portal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "EMAIL_URL": "smtp://mail.example:587",
        "INBOUND_EMAIL_SECRET": "s",
        "DATABASE_URL": "postgres://app@db.example/csp",
        "REDIS_URL": "redis://redis.example:6379/0",
    }
    code = "import django, logging; django.setup(); logging.getLogger('csp_portal.x').warning('hello %s', 'there')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello there"
    assert line["level"] == "WARNING"
    assert line["logger"] == "csp_portal.x"
