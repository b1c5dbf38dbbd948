"""Reads of partners, customers and people. Each owns its joins, so a page's query count is
decided here."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

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


def membership_for(*, partner, user) -> Membership | None:
    return Membership.objects.for_partner(partner).filter(user=user, is_active=True).first()


def contact_for(*, partner, user) -> CustomerContact | None:
    return (
        CustomerContact.objects.for_partner(partner)
        .select_related("customer")
        .filter(user=user, is_active=True, customer__status__in=_PORTAL_CUSTOMER_STATUSES)
        .first()
    )


_PORTAL_CUSTOMER_STATUSES = [
    Customer.Status.ACTIVE,
    Customer.Status.ON_HOLD,
    Customer.Status.SUSPENDED,
]


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
        .order_by("-role", "user__email")
    )


def staff_list(*, partner) -> QuerySet[Membership]:
    return Membership.objects.for_partner(partner).select_related("user").order_by("user__email")


def open_invitations(*, partner, customer=None) -> QuerySet[Invitation]:
    invitations = Invitation.objects.for_partner(partner).filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    )
    return invitations.filter(customer=customer).select_related("invited_by")


def support_offering(*, partner) -> dict:
    """Everything the public support page states, in four queries."""
    return {
        "plans": list(SupportPlan.objects.for_partner(partner)),
        "hours": list(ServiceHours.objects.for_partner(partner)),
        "holidays": list(
            Holiday.objects.for_partner(partner).filter(
                date__gte=timezone.localdate(timezone=partner.tz)
            )
        ),
        "contact_methods": list(ContactMethod.objects.for_partner(partner)),
    }
