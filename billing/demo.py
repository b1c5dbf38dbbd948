"""Demo billing data for `seed_demo`: a published collection policy and, per customer, a few
subscriptions and invoices of which some are overdue, so the overdue dashboard, the
collections sweep and "who is suspended tomorrow" have something to show on a fresh machine."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from . import services
from .models import CollectionPolicy, Invoice, InvoiceLine, Subscription

# (offer, product family, seats, monthly price per seat)
OFFERS = [
    ("Microsoft 365 Business Premium", "microsoft_365", 25, Decimal("20.60")),
    ("Azure plan", "azure", 1, Decimal("1840.00")),
    ("Dynamics 365 Sales Professional", "dynamics_365", 5, Decimal("61.80")),
]
# Days past due of the demo invoices, per customer in turn: current, 1–30, 31–60, 90+ days.
OVERDUE_DAYS = [[-10, 5], [20, 45], [95]]


def seed(*, partner, customers) -> None:
    if not CollectionPolicy.objects.for_partner(partner).exists():
        services.collection_policy_publish(
            partner=partner,
            reminder_steps=[-3, 1, 7, 14],
            final_notice_day=14,
            grace_days=7,
            suspend_scope="overdue_only",
            minimum_overdue_amount=Decimal("50.00"),
            currency=partner.currency,
            reinstate_on_payment=True,
            notes="Reminders before and after the due date; access to the subscriptions on an "
            "unpaid invoice is suspended after the final notice and a week's grace.",
        )
    today = timezone.localdate(timezone=partner.tz)
    for index, customer in enumerate(customers):
        if Subscription.objects.for_partner(partner).filter(customer=customer).exists():
            continue
        subscriptions = [
            Subscription.objects.create(
                partner=partner,
                customer=customer,
                partner_center_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{customer.pk}/{offer}")),
                offer_name=offer,
                product_family=family,
                quantity=seats,
                billing_cycle="monthly",
                term_end_date=today + timedelta(days=200),
            )
            for offer, family, seats, _price in OFFERS
        ]
        for number, days_overdue in enumerate(OVERDUE_DAYS[index % len(OVERDUE_DAYS)], start=1):
            _invoice(
                partner, customer, subscriptions, today, days_overdue, f"{customer.pk:04d}-{number}"
            )


def _invoice(partner, customer, subscriptions, today, days_overdue, suffix) -> None:
    due = today - timedelta(days=days_overdue)
    invoice = Invoice.objects.create(
        partner=partner,
        customer=customer,
        number=f"INV-{partner.slug[:3].upper()}-{suffix}",
        currency=partner.currency,
        issue_date=due - timedelta(days=30),
        due_date=due,
    )
    total = Decimal("0")
    for subscription, (offer, _family, seats, price) in zip(subscriptions, OFFERS, strict=True):
        amount = (price * seats).quantize(Decimal("0.01"))
        InvoiceLine.objects.create(
            partner=partner,
            invoice=invoice,
            subscription=subscription,
            description=offer,
            quantity=seats,
            unit_price=price,
            amount=amount,
            currency=partner.currency,
        )
        total += amount
    invoice.subtotal = total
    invoice.tax_total = (total * Decimal("0.21")).quantize(Decimal("0.01"))
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.save(update_fields=["subtotal", "tax_total", "total"])
