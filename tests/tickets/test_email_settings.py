"""Inbound e-mail settings: production refuses to start without the webhook's secret."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "csp_portal.settings",
    "DATABASE_URL": "postgres://app@localhost/csp",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 50,
    "EMAIL_URL": "smtp://mail.example:587",
}


def _start(**overrides) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.INBOUND_EMAIL_DOMAIN)",
        ],
        cwd=settings.BASE_DIR,
        env={**PRODUCTION, **overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_the_inbound_secret_stops_naming_it():
    result = _start()

    assert result.returncode != 0
    assert "INBOUND_EMAIL_SECRET" in result.stderr.splitlines()[-1]


def test_the_inbound_domain_defaults_to_inbound_dot_the_portal_domain():
    result = _start(INBOUND_EMAIL_SECRET="s", PORTAL_DOMAIN="portal.example")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "inbound.portal.example"
