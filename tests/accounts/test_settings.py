"""A missing or malformed setting stops start-up with a message that names the variable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "csp_portal.settings",
    "DATABASE_URL": "postgres://app@localhost/csp",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_DEBUG": "true",
}


def _start(**overrides) -> subprocess.CompletedProcess:
    env = {**BASE_ENV, **overrides}
    env = {key: value for key, value in env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_complete_settings_start():
    assert _start().returncode == 0


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"DATABASE_URL": "mysql://x@localhost/y"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORTAL_SCHEME": "ftp"}, "PORTAL_SCHEME"),
        ({"DJANGO_DEBUG": "false"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "k" * 50}, "EMAIL_URL"),
        ({"MICROSOFT_CLIENT_ID": "abc"}, "MICROSOFT_CLIENT_SECRET"),
    ],
)
def test_bad_setting_stops_start_up_naming_the_variable(overrides, named):
    result = _start(**overrides)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.splitlines()[-1]
