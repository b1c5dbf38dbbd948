"""Billing is reachable from the shared pages: the staff menu and dashboard tile (with the
overdue total) for staff who read billing, and the customer admin's home card."""

import datetime

import pytest
import time_machine

from csp_portal.accounts.models import Role
from tests.factories.billing import InvoiceFactory

TODAY = datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_billing_staff_see_the_menu_link_and_the_overdue_total(tenant_a, tenant_b):
    InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 2, 1))
    InvoiceFactory(customer=tenant_a.other_customers[0], due_date=datetime.date(2026, 2, 1))
    InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 4, 1))  # not due
    InvoiceFactory(customer=tenant_b.customer, due_date=datetime.date(2026, 1, 1))

    page = tenant_a.client(tenant_a.staff[Role.BILLING_ADMIN].user).get("/staff/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/staff/billing/"' in html
    assert "EUR 242.00" in html
    assert "2 customers" in html


@pytest.mark.django_db
def test_staff_without_billing_see_neither_link_nor_tile(tenant_a):
    InvoiceFactory(customer=tenant_a.customer, due_date=datetime.date(2026, 2, 1))

    page = tenant_a.client(tenant_a.staff[Role.HELPDESK_AGENT].user).get("/staff/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "/staff/billing/" not in html
    assert "EUR 121.00" not in html


@pytest.mark.django_db
def test_a_customer_admin_home_shows_the_balance_and_billing_links(tenant_a):
    InvoiceFactory(customer=tenant_a.customer)
    InvoiceFactory(customer=tenant_a.other_customers[0])

    page = tenant_a.client(tenant_a.customer_admin.user).get("/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "EUR 121.00" in html
    assert 'href="/billing/"' in html
    assert 'href="/billing/policy/"' in html


@pytest.mark.django_db
def test_a_customer_user_home_has_no_billing_card(tenant_a):
    InvoiceFactory(customer=tenant_a.customer)

    page = tenant_a.client(tenant_a.customer_user.user).get("/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "EUR 121.00" not in html
    assert 'href="/billing/"' not in html
