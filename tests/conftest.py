"""Shared fixtures: two partners with different amounts of data (so a leak changes a count),
clients bound to a partner's host, and a helper that runs what services put on the real
Redis broker."""

from __future__ import annotations

from functools import cached_property

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from csp_portal.accounts.models import ContactRole, Role
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
)


def pytest_configure(config):
    from django.conf import settings

    # Hashing is not what these tests exercise; the production hasher costs ~0.3 s a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _db_fixture(request) -> str | None:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        return "transactional_db" if marker.kwargs.get("transaction") else "db"
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            return name
    return None


@pytest.fixture(autouse=True)
def _test_rows_bypass_row_level_security(request):
    """Tests build rows for several partners outside any request; the policies still apply
    inside every request and task (partner_scope turns the bypass off and restores it)."""
    name = _db_fixture(request)
    if name is None:
        yield
        return
    request.getfixturevalue(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('csp.rls_bypass', 'on', false)")
    cache.clear()
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('csp.rls_bypass', '', false)")


def portal_client(partner, user=None) -> Client:
    """A browser on `partner`'s portal host (<slug>.localhost), signed in as `user`."""
    client = Client(HTTP_HOST=f"{partner.slug}.localhost")
    if user is not None:
        client.force_login(user)
    return client


class Tenant:
    """One partner with a customer, a contact of each kind and a staff member of each role."""

    def __init__(self, slug: str, extra_customers: int):
        self.partner = PartnerFactory(slug=slug, display_name=slug.title())
        self.customer = CustomerFactory(partner=self.partner)
        self.other_customers = CustomerFactory.create_batch(extra_customers, partner=self.partner)
        self.customer_admin = ContactFactory(customer=self.customer, role=ContactRole.ADMIN)
        self.customer_user = ContactFactory(customer=self.customer, role=ContactRole.USER)
        self.staff = {role: MembershipFactory(partner=self.partner, roles=[role]) for role in Role}
        self.admin = MembershipFactory(partner=self.partner, roles=list(Role))

    def client(self, user=None) -> Client:
        return portal_client(self.partner, user)

    # Ticket objects, made when a test first asks for them.
    @cached_property
    def ticket(self):
        from tests.factories.tickets import TicketFactory

        return TicketFactory(customer=self.customer, requester=self.customer_user.user)

    @cached_property
    def attachment(self):
        from tests.factories.tickets import AttachmentFactory

        return AttachmentFactory(message__ticket=self.ticket)

    @cached_property
    def canned_response(self):
        from tests.factories.tickets import CannedResponseFactory

        return CannedResponseFactory(partner=self.partner)

    @cached_property
    def escalation(self):
        from tests.factories.escalation import EscalationFactory

        return EscalationFactory(ticket=self.ticket)

    @cached_property
    def inbound_message(self):
        from tickets.email_models import InboundMessage

        return InboundMessage.objects.create(
            partner=self.partner,
            dedupe_key=f"fixture-{self.partner.pk}",
            sender="someone@unknown.example",
            subject="Hello",
            body="Can you help us?",
            status=InboundMessage.Status.HELD,
        )

    @cached_property
    def data_export(self):
        from csp_portal.privacy.models import DataExport

        return DataExport.objects.create(
            partner=self.partner, customer=self.customer, status=DataExport.Status.READY
        )

    @cached_property
    def api_token(self):
        from csp_portal.api.services import api_token_create

        token, _key = api_token_create(
            partner=self.partner,
            name="sync",
            user=self.admin.user,
            scopes=["tickets:read"],
            created_by=None,
        )
        return token

    # Billing objects, made when a test first asks for them.
    @cached_property
    def invoice(self):
        from tests.factories.billing import InvoiceFactory

        return InvoiceFactory(customer=self.customer)

    @cached_property
    def suspension(self):
        from tests.factories.billing import SuspensionFactory

        return SuspensionFactory(subscription__customer=self.customer, state="awaiting_approval")

    @cached_property
    def reminder(self):
        from tests.factories.billing import ReminderFactory

        return ReminderFactory(invoice=self.invoice)

    @cached_property
    def payment(self):
        import datetime

        from billing.models import Payment

        return Payment.objects.create(
            partner=self.partner,
            customer=self.customer,
            amount="10.00",
            currency="EUR",
            received_on=datetime.date(2026, 1, 5),
            method=Payment.Method.BANK_TRANSFER,
            unallocated="10.00",
        )

    @cached_property
    def billing_inquiry(self):
        from billing.models import BillingInquiry

        return BillingInquiry.objects.create(
            partner=self.partner, invoice=self.invoice, ticket=self.ticket, kind="copy"
        )

    # Webhook objects, made when a test first asks for them.
    @cached_property
    def webhook_endpoint(self):
        from csp_portal.webhooks.models import WebhookEndpoint

        return WebhookEndpoint.objects.create(
            partner=self.partner,
            url=f"https://hooks.{self.partner.slug}.example/csp",
            events=["ticket.created"],
            secret=f"whsec_{self.partner.slug}",
        )

    @cached_property
    def webhook_delivery(self):
        from csp_portal.webhooks.models import WebhookDelivery

        return WebhookDelivery.objects.create(
            partner=self.partner,
            endpoint=self.webhook_endpoint,
            event="ticket.created",
            payload={"ticket": {"id": 1}},
            status=WebhookDelivery.Status.FAILED,
        )


@pytest.fixture
def tenant_a(db):
    return Tenant("alpha", extra_customers=2)


@pytest.fixture
def tenant_b(db):
    return Tenant("bravo", extra_customers=4)


@pytest.fixture
def partner_a(tenant_a):
    return tenant_a.partner


@pytest.fixture
def partner_b(tenant_b):
    return tenant_b.partner


@pytest.fixture
def user(db):
    return UserFactory()
