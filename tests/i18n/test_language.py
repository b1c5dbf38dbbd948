"""Which language a page speaks: the person's own choice, else their company's, else the
browser's (Accept-Language)."""

import pytest

from tests.conftest import portal_client

pytestmark = pytest.mark.django_db


def home_heading(client, **headers) -> str:
    return client.get("/requests/new/", **headers).content.decode()


def test_a_customer_of_a_dutch_company_gets_dutch(tenant_a):
    tenant_a.customer.language = "nl"
    tenant_a.customer.save()

    page = home_heading(portal_client(tenant_a.partner, tenant_a.customer_user.user))

    assert '<html lang="nl">' in page
    assert "Een aanvraag indienen" in page
    assert "Waar gaat het over?" in page


def test_the_persons_own_choice_wins_over_the_company(tenant_a):
    tenant_a.customer.language = "nl"
    tenant_a.customer.save()
    user = tenant_a.customer_user.user
    user.language = "en"
    user.save()

    page = home_heading(portal_client(tenant_a.partner, user), HTTP_ACCEPT_LANGUAGE="nl")

    assert '<html lang="en">' in page
    assert "Submit a request" in page


def test_staff_without_a_choice_get_the_browsers_language(tenant_a):
    agent = tenant_a.staff["helpdesk_agent"].user

    dutch = portal_client(tenant_a.partner, agent).get(
        "/staff/tickets/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9,en;q=0.5"
    )
    english = portal_client(tenant_a.partner, agent).get(
        "/staff/tickets/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"
    )

    assert '<html lang="nl">' in dutch.content.decode()
    assert "Tickets zoeken" in dutch.content.decode()
    assert "Search tickets" in english.content.decode()
