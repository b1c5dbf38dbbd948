"""Real-browser tests: Playwright for Python drives Debian's Chromium against the portal served
by pytest-django's live server (one thread, real PostgreSQL and Redis, transactional database).

Playwright never downloads a browser here: the session installs the `chromium` Debian package
when /usr/bin/chromium is missing (as root; CI runs as root), and launches that binary.
Partners are reached through the path fallback, http://localhost:<port>/p/<slug>/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.tasks import purge_tasks

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"

# axe-core, the accessibility rules engine, fetched from the npm registry with npm into a
# cache under var/ (nothing from it is committed but this pinned version).
AXE_CORE_VERSION = "4.10.3"
AXE_CACHE = Path(settings.BASE_DIR) / "var" / "browser-tools" / f"axe-core-{AXE_CORE_VERSION}"


def _install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        subprocess.run(command, env=env, capture_output=True, check=True)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        if os.geteuid() != 0:
            pytest.skip(
                "Debian's Chromium (/usr/bin/chromium) is missing and only root may install "
                "it: run `apt-get install chromium` (CI runs as root and installs it itself)"
            )
        _install_chromium()
    assert CHROMIUM.exists(), "apt-get could not install the chromium package"
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_executable):
    # Playwright's synchronous API keeps an event loop in this thread; the test's own ORM calls
    # (building rows, reading results) are still synchronous, so Django's guard is lifted for
    # the browser tests only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(browser):
    """Browser contexts (separate cookie jars: a customer and an agent side by side)."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", VIEWPORT)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def portal_url(live_server):
    """portal_url(partner, "/requests/") → http://localhost:<port>/p/<slug>/requests/"""

    def url(partner, path: str = "/") -> str:
        return f"{live_server.url}/p/{partner.slug}{path}"

    return url


@pytest.fixture(autouse=True)
def _empty_broker(transactional_db):
    purge_tasks()
    yield
    purge_tasks()


def sign_in_cookie(context, partner, user, live_server_url: str) -> None:
    """Put a signed-in session for `user` into `context` (for people whose sign-in is not
    what the test is about)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server_url}]
    )


def screenshot(page, name: str) -> None:
    """docs/screenshots/<name>.png: the viewport (1280x800), for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def _download_axe() -> Path:
    script = AXE_CACHE / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to fetch axe-core for the accessibility checks")
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "pack", f"axe-core@{AXE_CORE_VERSION}", "--pack-destination", str(AXE_CACHE)],
        check=True,
        capture_output=True,
        cwd=AXE_CACHE,
    )
    archive = AXE_CACHE / f"axe-core-{AXE_CORE_VERSION}.tgz"
    with tarfile.open(archive) as tar:
        member = tar.extractfile("package/axe.min.js")
        script.write_bytes(member.read())
    archive.unlink()
    return script


@pytest.fixture(scope="session")
def axe_source() -> str:
    return _download_axe().read_text()


@pytest.fixture
def assert_accessible(axe_source):
    """Runs axe-core (WCAG 2.x A and AA rules) on the page; fails on any serious or critical
    violation, naming the rule and the elements."""

    def check(page) -> list[dict]:
        page.evaluate(axe_source)
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: "tag",
                    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
            }"""
        )
        serious = [v for v in result if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{page.url}\n{json.dumps(serious, indent=1)}"
        return result

    return check
