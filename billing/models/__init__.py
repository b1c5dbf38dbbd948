"""Billing: subscriptions, invoices, payments, the collection policy, dunning, suspensions,
disputes and reconciliation imports. Every row belongs to one partner (child rows included);
changes go through billing.services, reads through billing.selectors."""

from .collections import (
    BillingInquiry,
    CollectionPolicy,
    InvoiceHold,
    PolicyAcknowledgement,
    ReminderSent,
    Suspension,
    SweepRun,
)
from .imports import ReconciliationImport
from .ledger import (
    BillingEvent,
    BillingProfile,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    Subscription,
)

__all__ = [
    "BillingInquiry",
    "BillingEvent",
    "BillingProfile",
    "CollectionPolicy",
    "Invoice",
    "InvoiceHold",
    "InvoiceLine",
    "Payment",
    "PaymentAllocation",
    "PolicyAcknowledgement",
    "ReconciliationImport",
    "ReminderSent",
    "Subscription",
    "Suspension",
    "SweepRun",
]
