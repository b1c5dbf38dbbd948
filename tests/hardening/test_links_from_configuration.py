"""Password-reset and invitation links point at the partner's own portal over PORTAL_SCHEME,
never at a host or scheme from forwarding headers — also on a real domain over HTTPS. (The
reset link's host is the request's host only after PartnerMiddleware accepted it as this
partner's own; anything else answers 404 before a form is shown.)"""

import re

import pytest
from django.core import mail

from csp_portal.accounts import services
from csp_portal.accounts.models import Role
from tests.tasks import drain_tasks

FORGED = {"HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "http"}


@pytest.fixture
def production_domain(settings):
    settings.PORTAL_DOMAIN = "portal.example"
    settings.PORTAL_SCHEME = "https"
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
    settings.PLATFORM_HOSTS = {"portal.example", "testserver"}


@pytest.mark.django_db
def test_password_reset_link_uses_the_configured_domain(tenant_a, production_domain):
    from django.test import Client

    client = Client(HTTP_HOST="alpha.portal.example", **FORGED)

    client.post("/accounts/password/reset/", {"email": tenant_a.customer_user.user.email})

    links = re.findall(r"https?://\S+", mail.outbox[0].body)
    assert links
    assert all(link.startswith("https://alpha.portal.example/accounts/") for link in links)


@pytest.mark.django_db
def test_invitation_link_uses_the_configured_domain(
    tenant_a, production_domain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create_staff(
            partner=tenant_a.partner,
            email="new.agent@alpha.example",
            roles=[Role.HELPDESK_AGENT],
            invited_by=tenant_a.admin.user,
        )
    drain_tasks()

    links = re.findall(r"https?://[^\s\"<]+", mail.outbox[0].body)
    assert links
    assert all(link.startswith("https://alpha.portal.example/me/invitations/") for link in links)
