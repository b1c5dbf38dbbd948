"""The customer's subscriptions, offered to the tickets app's request forms and customer panel."""

from tickets.subscriptions import SubscriptionOption

from .models import Subscription


def subscription_options(*, partner, customer) -> list[SubscriptionOption]:
    rows = (
        Subscription.objects.for_partner(partner)
        .filter(customer=customer)
        .exclude(status=Subscription.Status.CANCELLED)
        .order_by("offer_name")
        .values_list("partner_center_id", "offer_name", "quantity", "status")
    )
    return [
        SubscriptionOption(reference=reference, name=f"{offer} ({quantity})", status=status)
        for reference, offer, quantity, status in rows
    ]
