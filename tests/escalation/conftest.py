"""The Microsoft stub, started in-process on a free port for each test that asks for it, and
the settings that point the client at it (with short backoffs: the waits are real)."""

import pytest

from escalation.stub import MicrosoftStub
from tests.tasks import purge_tasks


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def stub(settings):
    server = MicrosoftStub("127.0.0.1", 0).start()
    for name in (
        "MICROSOFT_API_BASE_URL",
        "PARTNER_CENTER_BASE_URL",
        "AZURE_MANAGEMENT_BASE_URL",
        "MICROSOFT_LOGIN_BASE_URL",
    ):
        setattr(settings, name, server.url)
    settings.MICROSOFT_PARTNER_APPS = {
        "*": {"tenant_id": "partner-tenant", "client_id": "app", "client_secret": "secret"}
    }
    settings.MICROSOFT_BACKOFF_SECONDS = 0.01
    settings.MICROSOFT_MAX_WAIT_SECONDS = 2.0
    settings.MICROSOFT_TIMEOUT_SECONDS = 2.0
    settings.MICROSOFT_MAX_ATTEMPTS = 4
    yield server
    server.stop()


@pytest.fixture
def broker(db):
    purge_tasks()
    yield
    purge_tasks()
