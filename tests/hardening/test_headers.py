"""Content Security Policy and the other security headers, on the pages people use."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from csp_portal.accounts.models import Role

# Templates that a browser renders as a portal page (e-mail bodies and PDF layouts are not
# served to browsers, so their inline styles are not subject to the policy).
NOT_PAGES = re.compile(r"/(email|pdf)/")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_WITHOUT_NONCE = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.IGNORECASE)


def _page_templates():
    base = Path(settings.BASE_DIR)
    roots = [base / "templates", *base.glob("*/templates"), *base.glob("csp_portal/*/templates")]
    for root in roots:
        for path in root.rglob("*.html"):
            if not NOT_PAGES.search(path.as_posix()):
                yield path


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip() for part in header.split(";") if part.strip()
    }


def test_no_page_template_needs_inline_script_or_style():
    offenders = []
    for path in _page_templates():
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE, STYLE_WITHOUT_NONCE):
            offenders += [f"{path}: {m.group(0)[:60]}" for m in pattern.finditer(text)]

    assert offenders == []


@pytest.mark.django_db
def test_pages_carry_a_strict_policy_and_the_brand_style_its_nonce(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.HELPDESK_AGENT].user)

    response = client.get("/staff/")

    policy = _csp(response)
    nonce = re.search(r"'nonce-([^']+)'", policy["style-src"]).group(1)
    assert policy["script-src"] == "script-src 'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert f'<style nonce="{nonce}">' in response.content.decode()
    assert "js/portal.js" in response.content.decode()


@pytest.mark.django_db
def test_each_response_has_its_own_nonce(tenant_a):
    client = tenant_a.client()

    first = _csp(client.get("/"))["style-src"]
    second = _csp(client.get("/"))["style-src"]

    assert first != second


@pytest.mark.django_db
def test_security_headers(tenant_a):
    response = tenant_a.client().get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_api_docs_page_loads_its_script_from_a_url_under_the_policy(tenant_a):
    client = tenant_a.client(tenant_a.admin.user)

    page = client.get("/api/docs/")
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', page.content.decode()).group(1)
    script = client.get(script_url.replace("&amp;", "&"))

    assert page.status_code == 200
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "'unsafe-inline'" in _csp(page)["style-src"]
    assert "<script>" not in page.content.decode()
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.django_db
def test_platform_admin_keeps_a_policy():
    from django.test import Client

    response = Client().get("/admin/login/")

    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
