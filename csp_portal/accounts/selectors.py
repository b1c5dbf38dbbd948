"""Reads of partners, customers and people. Each owns its joins, so a page's query count is
decided here."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from csp_portal.compiled import CompiledRead

from .models import (
    ContactMethod,
    Customer,
    CustomerContact,
    Holiday,
    Invitation,
    Membership,
    ServiceHours,
    SupportPlan,
)

_PORTAL_CUSTOMER_STATUSES = [
    Customer.Status.ACTIVE,
    Customer.Status.ON_HOLD,
    Customer.Status.SUSPENDED,
]

# Every signed-in page reads the viewer's membership (staff) or contact (customers): the two
# reads are compiled once per process.
_MEMBERSHIP = CompiledRead(
    lambda partner, user: (
        Membership.objects.for_partner(partner)
        .filter(user_id=user, is_active=True)
        .order_by("pk")[:1]
    ),
    partner=-1,
    user=-2,
)
_CONTACT = CompiledRead(
    lambda partner, user: (
        CustomerContact.objects.for_partner(partner)
        .select_related("customer")
        .filter(user_id=user, is_active=True, customer__status__in=_PORTAL_CUSTOMER_STATUSES)
        .order_by("pk")[:1]
    ),
    partner=-1,
    user=-2,
)


def _first(read: CompiledRead, *, partner, user):
    rows = read.objects(partner=partner, user=user)
    return rows[0] if rows else None


def membership_for(*, partner, user) -> Membership | None:
    return _first(_MEMBERSHIP, partner=partner, user=user)


def contact_for(*, partner, user) -> CustomerContact | None:
    return _first(_CONTACT, partner=partner, user=user)


def customer_list(*, partner, search: str = "", status: str = "") -> QuerySet[Customer]:
    customers = Customer.objects.for_partner(partner).annotate(
        contact_count=Count("contacts", filter=Q(contacts__is_active=True))
    )
    if search:
        customers = customers.filter(
            Q(company_name__icontains=search)
            | Q(primary_domain__icontains=search)
            | Q(billing_email__icontains=search)
            | Q(contacts__user__email__icontains=search)
        ).distinct()
    if status:
        customers = customers.filter(status=status)
    return customers.order_by("company_name")


def customer_contacts(*, partner, customer) -> QuerySet[CustomerContact]:
    return (
        CustomerContact.objects.for_partner(partner)
        .filter(customer=customer)
        .select_related("user")
        .order_by("role", "user__email")  # "admin" before "user"
    )


def staff_list(*, partner) -> QuerySet[Membership]:
    return Membership.objects.for_partner(partner).select_related("user").order_by("user__email")


def open_invitations(*, partner, customer=None) -> QuerySet[Invitation]:
    invitations = Invitation.objects.for_partner(partner).filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    )
    return invitations.filter(customer=customer).select_related("invited_by")


# The support offering is read on every customer portal home page: compiled once per process.
_PLANS = CompiledRead(lambda partner: SupportPlan.objects.for_partner(partner), partner=-1)
_HOURS = CompiledRead(lambda partner: ServiceHours.objects.for_partner(partner), partner=-1)
_HOLIDAYS = CompiledRead(
    lambda partner, today: Holiday.objects.for_partner(partner).filter(date__gte=today),
    partner=-1,
    today=date(1901, 1, 1),  # a day no holiday is on
)
_CONTACT_METHODS = CompiledRead(
    lambda partner: ContactMethod.objects.for_partner(partner), partner=-1
)


def support_offering(*, partner) -> dict:
    """Everything the public support page states, in four queries."""
    return {
        "plans": _PLANS.objects(partner=partner),
        "hours": _HOURS.objects(partner=partner),
        "holidays": _HOLIDAYS.objects(
            partner=partner, today=timezone.localdate(timezone=partner.tz)
        ),
        "contact_methods": _CONTACT_METHODS.objects(partner=partner),
    }
