"""Tickets through the API: customers open and follow their own; agents work them; internal
notes stay internal."""

import pytest

from csp_portal.accounts.models import Role
from tests.api.conftest import api_client, issue
from tickets.models import Ticket

NEW_TICKET = {
    "subject": "Outlook cannot sign in",
    "body": "Since this morning.",
    "kind": "technical",
    "product": "microsoft_365",
}


@pytest.mark.django_db
def test_a_customer_opens_a_ticket_for_its_own_company(tenant_a, customer_key):
    client = api_client(tenant_a.partner, customer_key)

    response = client.post("/api/v1/tickets/", NEW_TICKET, content_type="application/json")
    other = client.post(
        "/api/v1/tickets/",
        {**NEW_TICKET, "customer": tenant_a.other_customers[0].pk},
        content_type="application/json",
    )

    ticket = Ticket.objects.for_partner(tenant_a.partner).get(pk=response.json()["id"])
    assert response.status_code == 201
    assert ticket.customer == tenant_a.customer
    assert ticket.requester == tenant_a.customer_admin.user
    assert response.json()["reference"] == ticket.reference
    assert other.status_code == 400
    assert Ticket.objects.for_partner(tenant_a.partner).count() == 1


@pytest.mark.django_db
def test_staff_must_name_the_customer(tenant_a, staff_key):
    response = api_client(tenant_a.partner, staff_key).post(
        "/api/v1/tickets/", NEW_TICKET, content_type="application/json"
    )

    assert response.status_code == 400
    assert "customer" in response.json()["errors"]
    assert not Ticket.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_agent_works_a_ticket_and_internal_notes_stay_internal(tenant_a):
    ticket = tenant_a.ticket
    _, agent_key = issue(tenant_a, tenant_a.staff[Role.HELPDESK_AGENT].user)
    _, sales_key = issue(tenant_a, tenant_a.staff[Role.SALES_AGENT].user)
    _, customer_key = issue(tenant_a, tenant_a.customer_user.user)
    agent = api_client(tenant_a.partner, agent_key)
    url = f"/api/v1/tickets/{ticket.pk}/messages/"

    note = agent.post(
        url,
        {"body": "Checked the tenant's sign-in logs.", "public": False},
        content_type="application/json",
    )
    reply = agent.post(url, {"body": "Please try again now."}, content_type="application/json")
    change = agent.patch(
        f"/api/v1/tickets/{ticket.pk}/",
        {"status": "waiting_on_customer", "priority": "high"},
        content_type="application/json",
    )
    seen_by_customer = [
        m["body"] for m in api_client(tenant_a.partner, customer_key).get(url).json()
    ]
    seen_by_sales = [m["body"] for m in api_client(tenant_a.partner, sales_key).get(url).json()]
    customer_note = api_client(tenant_a.partner, customer_key).post(
        url, {"body": "x", "public": False}, content_type="application/json"
    )

    ticket.refresh_from_db()
    assert (note.status_code, reply.status_code, change.status_code) == (201, 201, 200)
    assert ticket.status == "waiting_on_customer"
    assert ticket.priority == "high"
    assert "Please try again now." in seen_by_customer
    assert "Checked the tenant's sign-in logs." not in seen_by_customer
    assert "Checked the tenant's sign-in logs." not in seen_by_sales
    assert customer_note.status_code == 403


@pytest.mark.django_db
def test_a_customer_user_sees_only_own_tickets_and_the_admin_the_companys(tenant_a):
    from tests.factories.tickets import TicketFactory

    own = tenant_a.ticket
    colleague = TicketFactory(customer=tenant_a.customer, requester=tenant_a.customer_admin.user)
    _, user_key = issue(tenant_a, tenant_a.customer_user.user)
    _, admin_key = issue(tenant_a, tenant_a.customer_admin.user)

    user_sees = {
        t["id"]
        for t in api_client(tenant_a.partner, user_key).get("/api/v1/tickets/").json()["results"]
    }
    admin_sees = {
        t["id"]
        for t in api_client(tenant_a.partner, admin_key).get("/api/v1/tickets/").json()["results"]
    }

    assert user_sees == {own.pk}
    assert admin_sees == {own.pk, colleague.pk}


@pytest.mark.django_db
def test_assigning_to_someone_outside_the_staff_is_refused(tenant_a, tenant_b, staff_key):
    response = api_client(tenant_a.partner, staff_key).patch(
        f"/api/v1/tickets/{tenant_a.ticket.pk}/",
        {"assignee": tenant_b.admin.user.pk},
        content_type="application/json",
    )

    tenant_a.ticket.refresh_from_db()
    assert response.status_code == 400
    assert "assignee" in response.json()["errors"]
    assert tenant_a.ticket.assignee is None
