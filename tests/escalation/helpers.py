"""Shared set-ups of the escalation tests."""

from escalation import services
from escalation.models import Channel
from tests.factories.escalation import BenefitFactory, ContractFactory
from tests.factories.tickets import MessageFactory, TicketFactory

SUBSCRIPTION = "8a3b2c1d-0e9f-4a5b-8c7d-6e5f4a3b2c1d"
SERVICE = "/providers/Microsoft.Support/services/virtual_machine_running_linux_service_guid"
CLASSIFICATION = f"{SERVICE}/problemClassifications/problemClassification_guid"


def azure_ticket(tenant, **kwargs):
    ContractFactory(partner=tenant.partner)
    ticket = TicketFactory(
        customer=tenant.customer,
        requester=tenant.customer_user.user,
        kind="technical",
        product="azure",
        **kwargs,
    )
    MessageFactory(ticket=ticket, body="The VM does not answer on SSH")
    return ticket


def escalate(tenant, ticket, channel=Channel.PREMIER_UNIFIED, **kwargs):
    values = {
        "ticket": ticket,
        "acting_user": tenant.staff["helpdesk_agent"].user,
        "channel": channel,
        "severity": "moderate",
        "title": "VM unreachable",
        "description": "The VM does not answer on SSH since 09:00.",
        "contact_name": "Ann Agent",
        "contact_email": "ann@partner.example",
    }
    if channel == Channel.PREMIER_UNIFIED and ticket.product == "azure":
        values.update(azure_subscription_id=SUBSCRIPTION, problem_classification_id=CLASSIFICATION)
    values.update(kwargs)
    return services.escalation_create(**values)


def cloud_benefit(tenant, **kwargs):
    return BenefitFactory(partner=tenant.partner, **kwargs)
