"""Hostile requests: forged POSTs (no CSRF token) on every state-changing page and on the API
with a session, off-site `next=` redirects, SQL-looking search strings, oversized and
malformed uploads, and header injection through e-mail subjects."""

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billing.models import ReconciliationImport
from csp_portal.accounts.models import Partner
from tests.factories import PASSWORD
from tests.security.test_access_matrix import (
    _api_routes,
    _api_url,
    _build,
    _kind,
    _materialise,
    _page_routes,
    fingerprint,
)
from tests.tasks import drain_tasks, purge_tasks
from tickets import services
from tickets.models import Ticket, TicketAttachment

# -- CSRF -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_state_changing_page_refuses_a_post_without_a_csrf_token(tenant_a):
    _materialise(tenant_a)
    before = fingerprint(tenant_a.partner)
    checked = 0
    wrong = []
    for route, name, view_class, methods in _page_routes():
        if "post" not in methods:
            continue
        kind = _kind(view_class)
        user = tenant_a.customer_admin.user if kind == "customer" else tenant_a.admin.user
        client = Client(HTTP_HOST=f"{tenant_a.partner.slug}.localhost", enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(_build(route, tenant_a), {"action": "approve"})
        checked += 1
        if response.status_code != 403 or b"CSRF" not in response.content:
            wrong.append((name, response.status_code))

    assert wrong == []
    assert checked >= 30
    assert fingerprint(tenant_a.partner) == before


@pytest.mark.django_db
def test_the_api_with_a_session_refuses_writes_without_a_csrf_token(tenant_a):
    _materialise(tenant_a)
    from tests.api.test_cross_tenant_api import API_OBJECTS

    client = Client(HTTP_HOST=f"{tenant_a.partner.slug}.localhost", enforce_csrf_checks=True)
    client.force_login(tenant_a.admin.user)
    before = fingerprint(tenant_a.partner)
    wrong = []
    for basename, name, detail, _viewset, methods in _api_routes():
        url = _api_url(name, API_OBJECTS[basename](tenant_a)) if detail else _api_url(name)
        for method, _action in methods:
            if method == "get":
                continue
            response = getattr(client, method)(url, {}, content_type="application/json")
            if response.status_code != 403:
                wrong.append((method, url, response.status_code))

    assert wrong == []
    assert fingerprint(tenant_a.partner) == before


# -- open redirects ---------------------------------------------------------------------------

OFF_SITE = ["//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example"]


def _stays_on_site(response) -> bool:
    location = response.get("Location", "")
    return not (
        location.startswith(("//", "/\\", "\\"))
        or "evil.example" in location.split("?")[0]
        or location.startswith(("http://", "https://"))
        and ".localhost" not in location.split("/")[2]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(tenant_a, target):
    client = tenant_a.client()

    response = client.post(
        f"/accounts/login/?next={target}",
        {"login": tenant_a.customer_user.user.email, "password": PASSWORD, "next": target},
    )

    assert response.status_code in {200, 302}
    assert _stays_on_site(response), response.get("Location")


@pytest.mark.django_db
@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_out_and_mfa_never_redirect_off_site(tenant_a, target):
    client = tenant_a.client(tenant_a.admin.user)

    mfa = client.get(f"/accounts/2fa/totp/activate/?next={target}")
    out = client.post(f"/accounts/logout/?next={target}", {"next": target})

    assert _stays_on_site(mfa), mfa.get("Location")
    assert out.status_code == 302 and _stays_on_site(out), out.get("Location")


def test_the_portal_has_no_language_switch_to_redirect_through():
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("set_language", urlconf=settings.PARTNER_URLCONF)


# -- search strings ---------------------------------------------------------------------------

SEARCHES = ["' OR 1=1 --", "%", "\\", "_", "'; DROP TABLE tickets_ticket; --", "x" * 5000]


@pytest.mark.django_db
@pytest.mark.parametrize("search", SEARCHES)
def test_sql_looking_searches_answer_200_with_nothing_found(tenant_a, tenant_b, search):
    tenant_a.ticket, tenant_b.ticket  # noqa: B018 — rows to (not) find on both sides
    staff = tenant_a.client(tenant_a.admin.user)
    from tests.api.conftest import api_client, issue

    api = api_client(tenant_a.partner, issue(tenant_a, tenant_a.admin.user)[1])

    customers = staff.get("/staff/customers/", {"q": search})
    tickets = staff.get("/staff/tickets/", {"q": search, "view": "all"})
    api_customers = api.get("/api/v1/customers/", {"q": search})
    api_tickets = api.get("/api/v1/tickets/", {"q": search})

    for response in (customers, tickets, api_customers, api_tickets):
        assert response.status_code == 200
    assert tenant_a.customer.company_name not in customers.content.decode()
    assert tenant_a.ticket.subject not in tickets.content.decode()
    assert api_customers.json()["results"] == []
    assert api_tickets.json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("search", SEARCHES)
def test_hostile_filter_values_never_fail_the_server(tenant_a, search):
    staff = tenant_a.client(tenant_a.admin.user)
    from tests.api.conftest import api_client, issue

    api = api_client(tenant_a.partner, issue(tenant_a, tenant_a.admin.user)[1])
    answers = [
        staff.get("/staff/tickets/", {f: search for f in ("status", "priority", "customer")}),
        staff.get("/staff/billing/", {"currency": search, "sort": search, "bucket": search}),
        staff.get("/staff/audit/", {"page": search}),
        staff.get("/staff/tickets/inbound/", {"view": search}),
        api.get("/api/v1/invoices/", {"due_after": search, "ordering": search}),
        api.get("/api/v1/tickets/", {"status": search, "ordering": search}),
        api.get("/api/v1/payments/", {"customer": search}),
    ]

    assert [r.status_code for r in answers if r.status_code >= 500] == []
    assert {r.status_code for r in answers} <= {200, 400}


# -- uploads ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("tool.exe", b"MZ\x90\x00" + bytes(100)),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1)),
    ],
)
def test_bad_ticket_attachments_are_refused_and_nothing_is_stored(
    tenant_a, name, content, settings
):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024 * 1024
    client = tenant_a.client(tenant_a.customer_user.user)
    ticket = tenant_a.ticket
    before = TicketAttachment.objects.for_partner(tenant_a.partner).count()

    response = client.post(
        f"/requests/{ticket.pk}/",
        {"body": "see attached", "attachments": SimpleUploadedFile(name, content)},
    )

    assert 400 <= response.status_code < 500
    assert TicketAttachment.objects.for_partner(tenant_a.partner).count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("logo.png", b"not an image at all"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(600 * 1024)),
    ],
)
def test_bad_logos_are_refused_and_nothing_is_stored(tenant_a, name, content):
    client = tenant_a.client(tenant_a.admin.user)
    partner = tenant_a.partner

    response = client.post(
        "/staff/settings/",
        {
            "display_name": partner.display_name,
            "primary_colour": "#112233",
            "time_zone": "Europe/Amsterdam",
            "default_language": "en",
            "logo": SimpleUploadedFile(name, content),
        },
    )

    assert 400 <= response.status_code < 500
    assert not Partner.objects.get(pk=partner.pk).logo


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not utf-8 \x00\x00",
        b"InvoiceNumber,\x00CustomerId\n1,\x00x\n",
        b"a,b,c\n" + b'"' + b"x" * 200_000 + b'"\n',
        b"",
        b"just one line without the columns",
    ],
)
def test_malformed_reconciliation_files_are_refused_and_nothing_is_stored(tenant_a, content):
    client = tenant_a.client(tenant_a.admin.user)

    response = client.post(
        "/staff/billing/import/", {"file": SimpleUploadedFile("recon.csv", content)}
    )

    assert 400 <= response.status_code < 500
    assert not ReconciliationImport.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_an_oversized_reconciliation_file_is_refused(tenant_a, settings):
    settings.RECONCILIATION_IMPORT_MAX_BYTES = 1024
    client = tenant_a.client(tenant_a.admin.user)

    response = client.post(
        "/staff/billing/import/", {"file": SimpleUploadedFile("recon.csv", b"x," * 2000)}
    )

    assert response.status_code == 400
    assert "at most 1.0\xa0KB" in response.content.decode()
    assert not ReconciliationImport.objects.for_partner(tenant_a.partner).exists()


# -- header injection -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_subject_with_newlines_sends_no_extra_header(
    tenant_a, django_capture_on_commit_callbacks
):
    client = tenant_a.client(tenant_a.customer_user.user)
    purge_tasks()
    mail.outbox.clear()
    subject = "Help\r\nBcc: victim@example.com\r\nX-Injected: yes"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/requests/new/",
            {
                "subject": subject,
                "body": "Our VM is down",
                "kind": "technical",
                "product": "azure",
                "impact": "low",
                "urgency": "low",
            },
        )
    ticket = Ticket.objects.for_partner(tenant_a.partner).order_by("-pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(
            ticket=ticket, author=tenant_a.staff["helpdesk_agent"].user, body="On it"
        )
    drain_tasks()

    assert ticket is not None and ticket.subject.startswith("Help")
    assert mail.outbox
    for message in mail.outbox:
        headers = message.message()
        assert headers["Bcc"] is None and headers["X-Injected"] is None
        assert "victim@example.com" not in message.recipients()
        assert "\n" not in headers["Subject"]


@pytest.mark.django_db
def test_a_display_name_with_newlines_cannot_break_the_from_header(
    tenant_a, django_capture_on_commit_callbacks
):
    client = tenant_a.client(tenant_a.admin.user)

    client.post(
        "/staff/settings/",
        {
            "display_name": "Acme\r\nBcc: victim@example.com",
            "primary_colour": "#112233",
            "time_zone": "Europe/Amsterdam",
            "default_language": "en",
        },
    )

    name = Partner.objects.get(pk=tenant_a.partner.pk).display_name
    assert "\n" not in name and "\r" not in name
