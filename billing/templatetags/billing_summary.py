"""Billing figures for the shared pages (the staff dashboard tile and the customer's home
card), so those pages' views need not know about billing."""

from __future__ import annotations

from django import template
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def billing_overdue_totals(context) -> list[dict]:
    """Past-due balances of the request's partner per currency: [{currency, total,
    customers}], in one query."""
    partner = getattr(context.get("request"), "partner", None)
    if partner is None:
        return []
    today = timezone.localdate(timezone=partner.tz)
    return list(
        selectors.open_invoices(partner=partner)
        .filter(due_date__lt=today)
        .values("currency")
        .annotate(
            total=Coalesce(Sum(selectors.BALANCE), selectors.ZERO),
            customers=Count("customer", distinct=True),
        )
        .order_by("currency")
    )


@register.simple_tag(takes_context=True)
def billing_customer_balance(context) -> list[dict]:
    """The signed-in contact's company balance per currency: [{currency, owed, credit}]."""
    request = context.get("request")
    partner = getattr(request, "partner", None)
    contact = getattr(request, "contact", None)
    if partner is None or contact is None:
        return []
    return selectors.customer_balance(partner=partner, customer=contact.customer)
