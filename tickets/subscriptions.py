"""Which of a customer's subscriptions a ticket concerns.

Subscriptions belong to billing, and billing depends on tickets, not the other way round: so
billing registers a provider here (in its AppConfig.ready) and tickets only stores the chosen
subscription's Partner Center id and name on the ticket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SubscriptionOption:
    reference: str  # the Partner Center subscription id
    name: str
    status: str  # active / suspended / cancelled, as the provider says


_providers: list[Callable[..., list[SubscriptionOption]]] = []


def register_provider(provider: Callable[..., list[SubscriptionOption]]) -> None:
    """`provider(*, partner, customer)` returns the customer's subscriptions."""
    if provider not in _providers:
        _providers.append(provider)


def customer_subscriptions(*, partner, customer) -> list[SubscriptionOption]:
    options: list[SubscriptionOption] = []
    for provider in _providers:
        options.extend(provider(partner=partner, customer=customer))
    return options
