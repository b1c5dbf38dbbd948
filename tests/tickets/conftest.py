import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments written by a test go to its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
