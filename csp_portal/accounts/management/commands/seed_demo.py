"""Demo data for a newcomer: three partners (a direct-bill partner, an indirect provider and
its reseller), each with customers and a user of every role. Safe to run again: it looks
everything up by its natural key and changes nothing that is already there."""

from __future__ import annotations

import uuid
from datetime import date, time

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from csp_portal.accounts import demo
from csp_portal.accounts.models import (
    ContactMethod,
    ContactRole,
    Customer,
    CustomerContact,
    Holiday,
    Membership,
    Partner,
    Role,
    ServiceHours,
    SupportPlan,
    User,
)
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.accounts.urls_util import platform_url

DEMO_PASSWORD = "demo-portal-2026"

PARTNERS = [
    {
        "slug": "contoso",
        "display_name": "Contoso Cloud Services",
        "kind": Partner.Kind.DIRECT_BILL,
        "mpn_id": "4812345",
        "primary_colour": "#0a5cad",
        "support_phone": "+31 20 555 0100",
        "customers": [
            ("Alpine Ski House", "alpineskihouse.example", "nl"),
            ("Tailspin Toys", "tailspintoys.example", "en"),
            ("Woodgrove Bank", "woodgrovebank.example", "nl"),
        ],
    },
    {
        "slug": "northwind",
        "display_name": "Northwind Distribution",
        "kind": Partner.Kind.INDIRECT_PROVIDER,
        "mpn_id": "5123456",
        "primary_colour": "#1b7f4b",
        "support_phone": "+31 10 555 0200",
        "customers": [("Litware Inc.", "litware.example", "en")],
    },
    {
        "slug": "fabrikam",
        "display_name": "Fabrikam IT",
        "kind": Partner.Kind.INDIRECT_RESELLER,
        "provider": "northwind",
        "mpn_id": "6234567",
        "primary_colour": "#8a3ffc",
        "support_phone": "+31 30 555 0300",
        "customers": [
            ("Coho Winery", "cohowinery.example", "nl"),
            ("Adventure Works", "adventureworks.example", "en"),
        ],
    },
]

STAFF_ROLES = [
    ("admin", Role.GLOBAL_ADMIN, "Gwen Global"),
    ("people", Role.USER_ADMIN, "Uma Users"),
    ("agent", Role.ADMIN_AGENT, "Arjen Agent"),
    ("helpdesk", Role.HELPDESK_AGENT, "Hanna Helpdesk"),
    ("billing", Role.BILLING_ADMIN, "Bram Billing"),
    ("sales", Role.SALES_AGENT, "Sanne Sales"),
]


def _user(email: str, full_name: str, **extra) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=DEMO_PASSWORD, full_name=full_name, **extra
        )
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Create the demo partners, customers and people (idempotent) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")

    @transaction.atomic
    def handle(self, *args, quiet=False, **options):
        _user("operator@portal.example", "Platform Operator", is_staff=True, is_superuser=True)
        partners = {}
        for spec in PARTNERS:
            partners[spec["slug"]] = self._partner(spec, partners)
        if not quiet:
            self._print_logins(partners)

    def _partner(self, spec: dict, partners: dict) -> Partner:
        partner, _ = Partner.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "display_name": spec["display_name"],
                "kind": spec["kind"],
                "provider": partners.get(spec.get("provider", "")),
                "mpn_id": spec["mpn_id"],
                "primary_colour": spec["primary_colour"],
                "support_email": f"support@{spec['slug']}.example",
                "support_phone": spec["support_phone"],
                "support_summary": (
                    "We are your first line for everything Microsoft: technical problems, "
                    "billing questions and subscription changes. Where we cannot solve an "
                    "issue ourselves, we escalate it to Microsoft and stay your contact."
                ),
                # Demo only: the printed logins work without enrolling an authenticator.
                "require_staff_mfa": False,
            },
        )
        with partner_scope(partner):
            self._staff(partner)
            self._offering(partner)
            customers = [
                self._customer(partner, company, domain, language)
                for company, domain, language in spec["customers"]
            ]
            for seeder in demo.SEEDERS:
                seeder(partner=partner, customers=customers)
        return partner

    def _staff(self, partner: Partner) -> None:
        for local, role, name in STAFF_ROLES:
            user = _user(f"{local}@{partner.slug}.example", name)
            Membership.objects.for_partner(partner).get_or_create(
                partner=partner, user=user, defaults={"roles": [role]}
            )

    def _customer(self, partner: Partner, company: str, domain: str, language: str) -> Customer:
        tenant_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"{partner.slug}.{domain}")
        customer, _ = Customer.objects.for_partner(partner).get_or_create(
            partner=partner,
            microsoft_tenant_id=tenant_id,
            defaults={
                "company_name": company,
                "primary_domain": domain,
                "billing_email": f"accounts@{domain}",
                "language": language,
            },
        )
        first = domain.split(".")[0]
        for local, role in (("it", ContactRole.ADMIN), ("user", ContactRole.USER)):
            user = _user(f"{local}@{first}.example", f"{company} {local.upper()}")
            CustomerContact.objects.for_partner(partner).get_or_create(
                partner=partner, user=user, defaults={"customer": customer, "role": role}
            )
        return customer

    def _offering(self, partner: Partner) -> None:
        if SupportPlan.objects.for_partner(partner).exists():
            return
        SupportPlan.objects.bulk_create(
            [
                SupportPlan(
                    partner=partner,
                    name="Standard",
                    description="Billing and subscription questions, and technical support "
                    "for Microsoft 365, Dynamics 365 and Azure during office hours.",
                    price=0,
                    currency=partner.currency,
                    price_unit=SupportPlan.PriceUnit.INCLUDED,
                    position=1,
                ),
                SupportPlan(
                    partner=partner,
                    name="Premium",
                    description="Faster responses, a named engineer and escalation to "
                    "Microsoft on your behalf.",
                    price="4.50",
                    currency=partner.currency,
                    price_unit=SupportPlan.PriceUnit.PER_USER_MONTH,
                    position=2,
                ),
            ]
        )
        ServiceHours.objects.bulk_create(
            [
                ServiceHours(partner=partner, weekday=day, opens=time(8, 30), closes=time(17, 30))
                for day in range(5)
            ]
        )
        Holiday.objects.bulk_create(
            [
                Holiday(partner=partner, date=date(2026, 12, 25), name="Christmas Day"),
                Holiday(partner=partner, date=date(2026, 12, 26), name="Boxing Day"),
                Holiday(partner=partner, date=date(2027, 1, 1), name="New Year's Day"),
                Holiday(partner=partner, date=date(2027, 4, 27), name="King's Day"),
            ]
        )
        ContactMethod.objects.bulk_create(
            [
                ContactMethod(
                    partner=partner,
                    channel=ContactMethod.Channel.PORTAL,
                    value="This portal",
                    note="Any time",
                    position=1,
                ),
                ContactMethod(
                    partner=partner,
                    channel=ContactMethod.Channel.EMAIL,
                    value=partner.support_email,
                    note="Answered in service hours",
                    position=2,
                ),
                ContactMethod(
                    partner=partner,
                    channel=ContactMethod.Channel.PHONE,
                    value=partner.support_phone,
                    note="Service hours; urgent issues",
                    position=3,
                ),
            ]
        )

    def _print_logins(self, partners: dict) -> None:
        out = self.stdout
        out.write("")
        out.write(
            self.style.SUCCESS(
                "Demo data ready. Every demo login uses the password: " + DEMO_PASSWORD
            )
        )
        out.write(f"  Platform admin:  {platform_url('/admin/')}  operator@portal.example")
        for slug, partner in partners.items():
            out.write("")
            out.write(
                f"  {partner.display_name} ({partner.get_kind_display()}): {partner.portal_url('/')}"
            )
            out.write(
                "    staff:     "
                + ", ".join(
                    f"{local}@{slug}.example ({role.label})" for local, role, _ in STAFF_ROLES
                )
            )
            with partner_scope(partner):
                contacts = (
                    CustomerContact.objects.for_partner(partner)
                    .select_related("user", "customer")
                    .order_by("customer__company_name", "role")
                )
                for contact in contacts:
                    out.write(
                        f"    customer:  {contact.user.email} ({contact.get_role_display()}, {contact.customer.company_name})"
                    )
        out.write("")
        if settings.DEBUG:
            out.write("  Sent e-mail is written to var/mail/.")
