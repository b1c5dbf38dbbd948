"""Journey 1: a customer submits a technical request with an attachment on the partner's
portal; an agent (in a second browser) replies, escalates to Microsoft with the router's
reasons in view, and resolves; the customer sees the reply and rates it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in_cookie
from tests.browser.data import BrandedPartner
from tests.browser.test_customer_pages import sign_in
from tests.factories.escalation import BenefitFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_request_answered_escalated_resolved_and_rated(
    new_context, portal_url, live_server, assert_accessible, tmp_path
):
    contoso = BrandedPartner()
    BenefitFactory(partner=contoso.partner)
    log = tmp_path / "sign-in-errors.txt"
    log.write_text("AADSTS50076: multi-factor authentication required\n")

    # The customer, signed in through the form, submits a request with an attachment.
    customer = new_context().new_page()
    sign_in(
        customer,
        portal_url(contoso.partner, "/accounts/login/"),
        "eva@fabrikam.example",
        contoso.password,
    )
    customer.get_by_role("link", name="Submit a request").first.click()
    expect(customer.get_by_role("heading", level=1)).to_have_text("Submit a request")
    assert_accessible(customer)
    customer.get_by_label("What is it about?").select_option("technical")
    customer.get_by_label("Product").select_option(label="Microsoft 365 / Office 365")
    customer.get_by_label("Subject").fill("Outlook asks for MFA on every start")
    customer.get_by_label("Description").fill("Since Monday Outlook prompts everyone for MFA.")
    customer.get_by_label("Attachments").set_input_files(str(log))
    screenshot(customer, "request-form")
    customer.get_by_role("button", name="Send request").click()
    expect(customer.get_by_role("heading", level=1)).to_have_text(
        "Outlook asks for MFA on every start"
    )
    expect(customer.get_by_role("link", name="sign-in-errors.txt")).to_be_visible()
    assert_accessible(customer)
    ticket = Ticket.objects.for_partner(contoso.partner).get()

    # The agent finds it in the list and answers it.
    agent_context = new_context()
    sign_in_cookie(agent_context, contoso.partner, contoso.agent.user, live_server.url)
    agent = agent_context.new_page()
    agent.goto(portal_url(contoso.partner, "/staff/tickets/"))
    expect(agent.get_by_role("link", name="Outlook asks for MFA on every start")).to_be_visible()
    screenshot(agent, "staff-ticket-list")
    assert_accessible(agent)
    agent.get_by_role("link", name="Outlook asks for MFA on every start").click()
    expect(agent.get_by_role("link", name="sign-in-errors.txt")).to_be_visible()
    reply = agent.locator("#reply")
    reply.get_by_label("Message").fill("We are looking into the conditional access policy.")
    reply.get_by_role("button", name="Send").click()
    expect(agent.get_by_text("We are looking into the conditional access policy.")).to_be_visible()

    # The escalation panel explains the router's choice; the agent escalates.
    panel = agent.locator("#escalation")
    expect(panel.get_by_role("heading", name="Escalation")).to_be_visible()
    options = panel.locator(".escalation-options li")
    expect(options.filter(has_text="preferred")).to_contain_text("Partner Cloud Support")
    expect(panel).to_contain_text("No Premier Support for Partners / Unified contract is recorded.")
    screenshot(agent, "staff-ticket")
    assert_accessible(agent)
    panel.get_by_role("link", name="Escalate…").click()
    expect(agent.get_by_role("heading", name=re.compile("^Escalate "))).to_be_visible()
    agent.get_by_role("button", name="Escalate", exact=True).click()
    expect(agent.locator("#escalation")).to_contain_text("Partner Cloud Support")
    expect(agent.locator("#escalation")).to_contain_text(re.compile("Record case number"))

    # Resolved from the properties panel.
    properties = agent.locator("section[aria-labelledby='props-title']")
    properties.get_by_label("Status").select_option("resolved")
    properties.get_by_role("button", name="Save").click()
    expect(agent.locator(".page-header .badge").first).to_contain_text("Resolved")

    # The customer sees the reply and rates the resolution.
    customer.reload()
    expect(
        customer.get_by_text("We are looking into the conditional access policy.")
    ).to_be_visible()
    customer.get_by_text("5", exact=True).click()
    customer.get_by_label("Comment").fill("Quick and clear.")
    screenshot(customer, "request-page")
    customer.get_by_role("button", name="Send rating").click()
    expect(customer.get_by_text("You rated this request 5 out of 5. Thank you.")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.csat_score) == (Ticket.Status.RESOLVED, 5)
