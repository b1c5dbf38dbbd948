"""factory-boy factories for entitlements and escalations."""

from datetime import date

import factory

from escalation.models import (
    Channel,
    Delivery,
    Escalation,
    Severity,
    SupportBenefit,
    SupportContract,
)
from tests.factories.tickets import TicketFactory


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportContract

    partner = factory.SubFactory("tests.factories.PartnerFactory")
    kind = SupportContract.Kind.PREMIER_UNIFIED
    contract_id = factory.Sequence(lambda n: f"PRM-{n:05d}")
    valid_from = date(2020, 1, 1)
    valid_to = date(2099, 12, 31)


class BenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportBenefit

    partner = factory.SubFactory("tests.factories.PartnerFactory")
    kind = SupportBenefit.Kind.PARTNER_CLOUD_SUPPORT
    access_id = factory.Sequence(lambda n: f"ACC-{n:05d}")
    contract_id = factory.Sequence(lambda n: f"CON-{n:05d}")
    incident_allowance = 5
    incidents_used = 0
    renewal_date = date(2099, 6, 30)


class EscalationFactory(factory.django.DjangoModelFactory):
    """A Partner Center escalation prepared for the agent to file."""

    class Meta:
        model = Escalation

    ticket = factory.SubFactory(TicketFactory)
    partner = factory.SelfAttribute("ticket.partner")
    customer = factory.SelfAttribute("ticket.customer")
    channel = Channel.COMMERCIAL
    delivery = Delivery.PARTNER_CENTER
    status = Escalation.Status.PREPARED
    severity = Severity.MODERATE
    title = factory.SelfAttribute("ticket.subject")
    description = "Please help"
    product = factory.SelfAttribute("ticket.product")
    contact_name = "Agent Smith"
    contact_email = "agent@partner.example"
