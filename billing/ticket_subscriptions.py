"""The customer's subscriptions, offered to the tickets app's request forms and customer panel."""

from tickets.subscriptions import SubscriptionOption

from .models import Subscription


def subscription_options(*, partner, customer) -> list[SubscriptionOption]:
    subscriptions = (
        Subscription.objects.for_partner(partner)
        .filter(customer=customer)
        .exclude(status=Subscription.Status.CANCELLED)
        .order_by("offer_name")
    )
    return [
        SubscriptionOption(
            reference=subscription.partner_center_id,
            name=f"{subscription.offer_name} ({subscription.quantity})",
            status=subscription.status,
        )
        for subscription in subscriptions
    ]
