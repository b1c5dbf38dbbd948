"""The customer's subscriptions, offered to the tickets app's request forms and customer panel."""

from csp_portal.compiled import CompiledRead
from tickets.subscriptions import SubscriptionOption

from .models import Subscription


def _options(*, partner, customer):
    return (
        Subscription.objects.for_partner(partner)
        .filter(customer=customer)
        .exclude(status=Subscription.Status.CANCELLED)
        .order_by("offer_name")
        .values_list("partner_center_id", "offer_name", "quantity", "status")
    )


# Read on every view of a ticket (its customer panel): compiled once per process.
_OPTIONS = CompiledRead(_options, partner=-1, customer=-2)


def subscription_options(*, partner, customer) -> list[SubscriptionOption]:
    rows = _OPTIONS.rows(partner=partner, customer=customer)
    return [
        SubscriptionOption(reference=reference, name=f"{offer} ({quantity})", status=status)
        for reference, offer, quantity, status in rows
    ]
