"""Microsoft's case e-mails land on the escalation with that case number — never on another
partner's, and a case nobody has follows the usual inbound rules."""

import pytest
from django.test import Client
from django.test.utils import override_settings

from escalation.models import EscalationEvent
from tests.factories.escalation import EscalationFactory
from tests.factories.tickets import TicketFactory
from tests.tickets.email_messages import build_message
from tickets.models import Ticket, TicketMessage

CASE = "2611260010001234"
SECRET = "inbound-test-secret"


def _deliver(raw: bytes):
    return Client(HTTP_HOST="localhost").post(
        "/inbound/email/", raw, content_type="message/rfc822", HTTP_X_INBOUND_SECRET=SECRET
    )


@pytest.mark.django_db
@override_settings(INBOUND_EMAIL_SECRET=SECRET)
def test_a_case_email_is_filed_on_the_escalation_as_an_internal_note(tenant_a, tenant_b):
    escalation = EscalationFactory(
        ticket=TicketFactory(customer=tenant_a.customer), case_number=CASE
    )
    other = EscalationFactory(ticket=TicketFactory(customer=tenant_b.customer), case_number=CASE)

    response = _deliver(
        build_message(
            sender="support@microsoft.example",
            to=tenant_a.partner.support_email,
            subject=f"Case {CASE}: we need a network trace",
            body="Please send a trace of the failing sign-in.",
        )
    )

    notes = TicketMessage.objects.for_partner(tenant_a.partner).filter(ticket=escalation.ticket)
    assert response.status_code == 200
    assert notes.filter(is_public=False, body__contains="network trace").count() == 1
    assert not notes.filter(is_public=True, body__contains="network trace").exists()
    assert (
        EscalationEvent.objects.for_partner(tenant_a.partner)
        .filter(escalation=escalation, kind=EscalationEvent.Kind.MESSAGE_IN)
        .exists()
    )
    assert (
        not TicketMessage.objects.for_partner(tenant_b.partner)
        .filter(ticket=other.ticket, body__contains="network trace")
        .exists()
    )


@pytest.mark.django_db
@override_settings(INBOUND_EMAIL_SECRET=SECRET)
def test_an_unknown_case_number_follows_the_usual_rules(tenant_a):
    before = Ticket.objects.for_partner(tenant_a.partner).count()

    _deliver(
        build_message(
            sender=tenant_a.customer_user.user.email,
            to=tenant_a.partner.support_email,
            subject="Case 2611269999999999 about my mailbox",
        )
    )

    assert Ticket.objects.for_partner(tenant_a.partner).count() == before + 1
    assert not EscalationEvent.objects.for_partner(tenant_a.partner).exists()
