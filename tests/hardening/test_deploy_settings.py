"""Production settings pass Django's deployment checks, and HTTPS-only settings follow
PORTAL_SCHEME."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "csp_portal.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "PORTAL_SCHEME": "https",
    "PORTAL_DOMAIN": "portal.example",
    "EMAIL_URL": "smtp://mailer:secret@mail.example:587/?tls=True",
    "INBOUND_EMAIL_SECRET": secrets.token_urlsafe(32),
    "DATABASE_URL": "postgres://app@db.example/csp",
    "REDIS_URL": "redis://redis.example:6379/0",
}

SHOW = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "ACCOUNT_DEFAULT_HTTP_PROTOCOL",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
    "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "SECURE_CONTENT_TYPE_NOSNIFF", "LOG_FORMAT",
]}))
"""


def _run(args, **overrides):
    env = {**PRODUCTION_ENV, **overrides}
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_https_settings_follow_the_portal_scheme():
    https = json.loads(_run(["-c", SHOW]).stdout)
    plain = json.loads(_run(["-c", SHOW], PORTAL_SCHEME="http").stdout)

    assert https["SESSION_COOKIE_SECURE"] and https["CSRF_COOKIE_SECURE"]
    assert https["SECURE_HSTS_SECONDS"] >= 31536000
    assert https["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and https["SECURE_SSL_REDIRECT"]
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["SECURE_HSTS_SECONDS"]
    assert https["SESSION_COOKIE_HTTPONLY"]
    assert https["X_FRAME_OPTIONS"] == "DENY"
    assert https["SECURE_REFERRER_POLICY"] == "same-origin"
    assert https["LOG_FORMAT"] == "json"
    assert https["ACCOUNT_DEFAULT_HTTP_PROTOCOL"] == "https"


def test_a_bad_log_format_stops_start_up():
    result = _run(["-c", "import django; django.setup()"], LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr.splitlines()[-1]
