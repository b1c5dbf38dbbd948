"""Sign-in: e-mail login, rate limiting, password reset links, and TOTP MFA for staff."""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from csp_portal.accounts.models import Role
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def _totp_code(secret: str) -> str:
    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


@pytest.mark.django_db
def test_customer_signs_in_with_email_and_password(tenant_a):
    client = tenant_a.client()

    response = client.post(
        LOGIN, {"login": tenant_a.customer_user.user.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.get("/").context["contact"] == tenant_a.customer_user


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(tenant_a):
    response = tenant_a.client().post(
        LOGIN, {"login": tenant_a.customer_user.user.email, "password": "nope"}
    )

    assert response.status_code == 200
    assert "not correct" in response.content.decode()


@pytest.mark.django_db
def test_repeated_failures_lock_the_login_even_with_the_right_password(tenant_a):
    client = tenant_a.client()
    email = tenant_a.customer_user.user.email
    for _ in range(5):
        client.post(LOGIN, {"login": email, "password": "wrong"})

    response = client.post(LOGIN, {"login": email, "password": PASSWORD})

    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_mail_links_to_the_partner_portal(tenant_a):
    tenant_a.client().post(
        "/accounts/password/reset/",
        {"email": tenant_a.customer_user.user.email},
        HTTP_X_FORWARDED_HOST="evil.example",
    )

    assert len(mail.outbox) == 1
    links = re.findall(r"https?://\S+", mail.outbox[0].body)
    assert links
    assert all(
        link.startswith("http://alpha.localhost/accounts/password/reset/key/") for link in links
    )


@pytest.mark.django_db
def test_staff_must_enrol_in_mfa_when_the_partner_requires_it(tenant_a):
    tenant_a.partner.require_staff_mfa = True
    tenant_a.partner.save()
    client = tenant_a.client(tenant_a.staff[Role.HELPDESK_AGENT].user)

    response = client.get("/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse("mfa_activate_totp", urlconf="csp_portal.urls_partner")
    )


@pytest.mark.django_db
def test_customers_are_not_asked_to_enrol(tenant_a):
    tenant_a.partner.require_staff_mfa = True
    tenant_a.partner.save()

    response = tenant_a.client(tenant_a.customer_user.user).get("/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_staff_enrols_in_totp_and_then_signs_in_with_a_code(tenant_a):
    tenant_a.partner.require_staff_mfa = True
    tenant_a.partner.save()
    user = tenant_a.staff[Role.HELPDESK_AGENT].user
    client = tenant_a.client()
    client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    # allauth asks for the password again before a security change.
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp", urlconf="csp_portal.urls_partner"))
    secret = page.context["form"].secret

    enrolled = client.post(
        reverse("mfa_activate_totp", urlconf="csp_portal.urls_partner"),
        {"code": _totp_code(secret)},
    )
    client.logout()
    # A code is accepted once: sign in during the next 30-second window.
    with time_machine.travel(timezone.now() + timedelta(seconds=35), tick=False):
        step_one = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
        step_two = client.post(
            reverse("mfa_authenticate", urlconf="csp_portal.urls_partner"),
            {"code": _totp_code(secret)},
        )
        workspace = client.get("/staff/")

    assert enrolled.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert step_one.status_code == 302
    assert step_one["Location"].startswith(
        reverse("mfa_authenticate", urlconf="csp_portal.urls_partner")
    )
    assert step_two.status_code == 302
    assert workspace.status_code == 200
