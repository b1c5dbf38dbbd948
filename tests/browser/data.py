"""The partner the browser journeys run against: branded, with a support offering and a
collection policy (rows made with the project's factories)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from csp_portal.accounts.models import (
    ContactMethod,
    ContactRole,
    Holiday,
    Role,
    ServiceHours,
    SupportPlan,
)
from tests.factories import (
    PASSWORD,
    ContactFactory,
    CustomerFactory,
    MembershipFactory,
    PartnerFactory,
)
from tests.factories.billing import PolicyFactory


class BrandedPartner:
    """Contoso Cloud, a CSP partner in Amsterdam with a dark-green brand."""

    password = PASSWORD

    def __init__(self, slug: str = "contoso", colour: str = "#0b6e4f"):
        self.partner = PartnerFactory(
            slug=slug,
            display_name="Contoso Cloud",
            primary_colour=colour,
            time_zone="Europe/Amsterdam",
            support_phone="+31 20 123 4567",
        )
        self.customer = CustomerFactory(partner=self.partner, company_name="Fabrikam B.V.")
        self.contact = ContactFactory(
            customer=self.customer,
            role=ContactRole.ADMIN,
            user__email="eva@fabrikam.example",
            user__full_name="Eva de Vries",
        )
        self.agent = MembershipFactory(
            partner=self.partner,
            roles=[Role.HELPDESK_AGENT],
            user__email="sam@contoso.example",
            user__full_name="Sam Jansen",
        )
        self.billing_admin = MembershipFactory(
            partner=self.partner,
            roles=[Role.BILLING_ADMIN, Role.ADMIN_AGENT],
            user__email="noor@contoso.example",
            user__full_name="Noor Bakker",
        )
        SupportPlan.objects.create(
            partner=self.partner,
            name="Standard",
            description="Technical, billing and subscription help in business hours.",
            price=Decimal("0"),
            price_unit=SupportPlan.PriceUnit.INCLUDED,
        )
        SupportPlan.objects.create(
            partner=self.partner,
            name="Premium",
            description="Round-the-clock help for critical problems.",
            price=Decimal("4.50"),
            price_unit=SupportPlan.PriceUnit.PER_USER_MONTH,
            position=1,
        )
        ServiceHours.objects.bulk_create(
            ServiceHours(
                partner=self.partner,
                weekday=day,
                opens=datetime.time(8, 30),
                closes=datetime.time(17, 30),
            )
            for day in range(5)
        )
        Holiday.objects.create(
            partner=self.partner, date=datetime.date(2099, 12, 25), name="Christmas Day"
        )
        ContactMethod.objects.create(
            partner=self.partner,
            channel=ContactMethod.Channel.EMAIL,
            value="support@contoso.example",
        )
        self.policy = PolicyFactory(partner=self.partner, version=1)
