"""Stored XSS: script-like text in every field people write — company and contact names,
ticket subjects and bodies (Markdown included), canned responses, branding, billing
questions, attachment names, API token names — is shown escaped on every page that shows it
and in the notification e-mail's HTML: the parsed page has no script element, event handler
or javascript: link that came from the text."""

from html import escape as html_escape
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.utils.html import escape

from csp_portal.accounts.models import Customer, Partner, User
from csp_portal.api.models import ApiToken
from tests.factories.tickets import AttachmentFactory, CannedResponseFactory, MessageFactory
from tests.tasks import drain_tasks, purge_tasks
from tickets import services
from tickets.models import Ticket

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "[click me](javascript:alert(1))",
]
MARKDOWN_LINKS = ["[click me](javascript:alert(1))", "<a href='javascript:alert(1)'>x</a>"]


class Inert(HTMLParser):
    """Collects what would run: script elements holding the payload, on* attributes,
    javascript: URLs, and the payload's own tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value}>")
            if name in {"href", "src", "action", "formaction", "xlink:href"} and (
                value.replace(" ", "").startswith("javascript:")
            ):
                self.found.append(f"<{tag} {name}={value}>")
        # (The billing charts are inline SVG of our own: an <svg> alone is no finding; the
        # payload's carries an on* handler.)
        if tag == "img" and dict(attrs).get("src") == "x":
            self.found.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and "alert(1)" in data:
            self.found.append(f"<script>{data[:60]}")


def executable(html: str) -> list[str]:
    parser = Inert()
    parser.feed(html)
    parser.close()
    return parser.found


def _fit(model, field, text):
    limit = model._meta.get_field(field).max_length
    return text[:limit] if limit else text


@pytest.fixture
def hostile(tenant_a):
    """Partner A with the payload in every field people write."""

    def build(payload):
        t = tenant_a
        Partner.objects.filter(pk=t.partner.pk).update(
            display_name=_fit(Partner, "display_name", payload),
            support_summary=payload,
        )
        t.partner.refresh_from_db()
        Customer.objects.for_partner(t.partner).filter(pk=t.customer.pk).update(
            company_name=_fit(Customer, "company_name", payload)
        )
        User.objects.filter(pk__in=[t.customer_user.user_id, t.customer_admin.user_id]).update(
            full_name=_fit(User, "full_name", payload)
        )
        Ticket.objects.for_partner(t.partner).filter(pk=t.ticket.pk).update(
            subject=_fit(Ticket, "subject", payload)
        )
        MessageFactory(ticket=t.ticket, body=payload, author=t.customer_user.user)
        for link in MARKDOWN_LINKS:
            MessageFactory(ticket=t.ticket, body=link, author=t.customer_user.user)
        AttachmentFactory(message__ticket=t.ticket, original_name=payload[:100])
        CannedResponseFactory(partner=t.partner, title=payload[:100], body=payload)
        ApiToken.objects.for_partner(t.partner).filter(pk=t.api_token.pk).update(
            name=_fit(ApiToken, "name", payload)
        )
        inquiry = t.billing_inquiry  # a billing question on the invoice: a billing ticket
        MessageFactory(ticket=inquiry.ticket, body=payload, author=t.customer_admin.user)
        return t

    return build


STAFF_PAGES = [
    "/staff/",
    "/staff/customers/",
    "/staff/customers/{customer}/",
    "/staff/tickets/",
    "/staff/tickets/{ticket}/",
    "/staff/tickets/{inquiry}/",
    "/staff/tickets/canned/",
    "/staff/billing/",
    "/staff/billing/customers/{customer}/",
    "/staff/api-tokens/",
    "/staff/settings/",
    "/staff/escalations/tickets/{ticket}/escalate/",
    "/staff/audit/",
]
CUSTOMER_PAGES = [
    "/",
    "/support/",
    "/requests/",
    "/requests/{ticket}/",
    "/requests/{inquiry}/",
    "/billing/",
    "/company/users/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_shown_inert_on_every_page(hostile, payload):
    t = hostile(payload)
    ids = {"customer": t.customer.pk, "ticket": t.ticket.pk, "inquiry": t.billing_inquiry.ticket_id}
    pages = [(t.client(t.admin.user), page) for page in STAFF_PAGES]
    pages += [(t.client(t.customer_admin.user), page) for page in CUSTOMER_PAGES]
    found = {}
    shown = 0

    for client, page in pages:
        response = client.get(page.format(**ids))
        assert response.status_code == 200, page
        html = response.content.decode()
        if executable(html):
            found[page] = executable(html)
        shown += any(form in html for form in _escaped(payload[:14]))

    assert found == {}
    assert shown >= 3  # the text is there, escaped — not dropped


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS + MARKDOWN_LINKS)
def test_payloads_are_inert_in_the_notification_e_mail(
    hostile, payload, django_capture_on_commit_callbacks
):
    t = hostile(payload)
    purge_tasks()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=t.ticket, author=t.staff["helpdesk_agent"].user, body=payload)
    drain_tasks()

    assert mail.outbox
    for message in mail.outbox:
        for html, mime in message.alternatives:
            assert mime == "text/html"
            assert executable(html) == [], message.subject


def _escaped(text):
    return {escape(text), html_escape(text, quote=False), html_escape(text)}


def test_the_scanner_finds_what_it_looks_for():
    for payload in PAYLOADS:
        assert executable(f"<p>{payload}</p>") or "javascript" in payload
    assert executable('<a href="javascript:alert(1)">x</a>')
    assert executable("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>") == []
