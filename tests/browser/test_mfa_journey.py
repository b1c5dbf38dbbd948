"""Journey 3: a staff member enrols in two-factor sign-in (TOTP) when the partner requires it,
then signs in again with a code from the authenticator app."""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.data import BrandedPartner
from tests.browser.test_customer_pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def totp_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_staff_member_enrols_in_totp_and_signs_in_with_a_code(
    new_context, portal_url, assert_accessible
):
    contoso = BrandedPartner()
    contoso.partner.require_staff_mfa = True
    contoso.partner.save()
    page = new_context().new_page()

    # Signed in with a password only, the workspace sends the agent to enrol first.
    sign_in(
        page,
        portal_url(contoso.partner, "/accounts/login/"),
        "sam@contoso.example",
        contoso.password,
    )
    page.goto(portal_url(contoso.partner, "/staff/tickets/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Access")
    page.get_by_label("Password").fill(contoso.password)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    screenshot(page, "mfa-enrol")
    assert_accessible(page)
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    assert Authenticator.objects.filter(
        user=contoso.agent.user, type=Authenticator.Type.TOTP
    ).exists()

    page.goto(portal_url(contoso.partner, "/staff/tickets/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tickets")
    page.get_by_role("button", name="Sam Jansen").click()
    page.get_by_role("button", name="Sign out").click()

    # A later sign-in (a fresh code: the one used to enrol cannot be replayed) asks for a code.
    with time_machine.travel(time.time() + 90, tick=True):
        sign_in(
            page,
            portal_url(contoso.partner, "/accounts/login/"),
            "sam@contoso.example",
            contoso.password,
        )
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.get_by_label("Code").fill(totp_code(secret))
        page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
        page.goto(portal_url(contoso.partner, "/staff/tickets/"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Tickets")
