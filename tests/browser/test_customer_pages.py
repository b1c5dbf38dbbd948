"""Journey 4: a customer reads the partner's support offering and its collection policy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.data import BrandedPartner

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_label(re.compile("password|wachtwoord", re.I)).fill(password)
    page.get_by_role("button", name=re.compile("sign in|inloggen", re.I)).click()
    page.wait_for_url(lambda address: "/accounts/login/" not in address)


def test_customer_reads_the_support_offering_and_the_collection_policy(
    new_context, portal_url, assert_accessible
):
    contoso = BrandedPartner()
    page = new_context().new_page()

    sign_in(
        page,
        portal_url(contoso.partner, "/accounts/login/"),
        "eva@fabrikam.example",
        contoso.password,
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Eva")
    screenshot(page, "portal-home")
    assert_accessible(page)

    page.get_by_role("link", name="Support", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support offering")
    expect(page.get_by_text("Premium")).to_be_visible()
    expect(page.get_by_text("support@contoso.example").first).to_be_visible()
    expect(page.get_by_text("Christmas Day")).to_be_visible()
    screenshot(page, "support-offering")
    assert_accessible(page)

    page.goto(portal_url(contoso.partner, "/billing/policy/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Collection policy")
    expect(page.get_by_text("The reminder on day 14 is the final notice.")).to_be_visible()
    page.get_by_role("button", name="Acknowledge this policy").click()
    expect(page.get_by_text("Thank you: the policy is acknowledged.")).to_be_visible()
    screenshot(page, "collection-policy")
    assert_accessible(page)


def test_a_light_brand_colour_gets_dark_text_that_passes_contrast(
    new_context, portal_url, assert_accessible
):
    sunny = BrandedPartner(slug="sunny", colour="#ffd200")
    page = new_context().new_page()

    page.goto(portal_url(sunny.partner, "/support/"))

    brand = page.locator(".portal-navbar .navbar-brand")
    expect(brand).to_have_css("color", "rgb(17, 24, 39)")
    expect(page.locator(".portal-navbar")).to_have_css("background-color", "rgb(255, 210, 0)")
    assert_accessible(page)


def test_a_dutch_customer_gets_the_portal_in_dutch(new_context, portal_url, assert_accessible):
    contoso = BrandedPartner()
    contoso.customer.language = "nl"
    contoso.customer.save()
    page = new_context(locale="en-GB").new_page()

    sign_in(
        page,
        portal_url(contoso.partner, "/accounts/login/"),
        "eva@fabrikam.example",
        contoso.password,
    )
    page.get_by_role("link", name="Een aanvraag indienen").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Een aanvraag indienen")
    expect(page.get_by_label("Waar gaat het over?")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    screenshot(page, "request-form-nl")
    assert_accessible(page)


def test_the_request_form_works_with_the_keyboard_alone(new_context, portal_url):
    contoso = BrandedPartner()
    page = new_context().new_page()
    sign_in(
        page,
        portal_url(contoso.partner, "/accounts/login/"),
        "eva@fabrikam.example",
        contoso.password,
    )
    page.goto(portal_url(contoso.partner, "/requests/new/"))
    keyboard = page.keyboard

    page.get_by_label("What is it about?").focus()
    keyboard.press("Tab")
    expect(page.get_by_label("Product")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_label("Subject")).to_be_focused()
    keyboard.type("Teams calls drop after five minutes")
    keyboard.press("Tab")
    expect(page.get_by_label("Description")).to_be_focused()
    keyboard.type("Every call from the office drops.")
    keyboard.press("Tab")
    expect(page.get_by_label("How many people are affected?")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_label("Urgency")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_label("Attachments")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send request")).to_be_focused()
    keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Teams calls drop after five minutes")
