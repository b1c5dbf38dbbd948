"""What each event carries: ids and the fields an integration needs, never internal notes."""

from __future__ import annotations


def ticket(ticket) -> dict:
    return {
        "ticket": {
            "id": ticket.pk,
            "reference": ticket.reference,
            "customer": ticket.customer_id,
            "subject": ticket.subject,
            "kind": ticket.kind,
            "product": ticket.product,
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee": ticket.assignee_id,
            "updated_at": ticket.updated_at,
        }
    }


def invoice(invoice) -> dict:
    return {
        "invoice": {
            "id": invoice.pk,
            "number": invoice.number,
            "customer": invoice.customer_id,
            "currency": invoice.currency,
            "total": str(invoice.total),
            "balance": str(invoice.balance),
            "due_date": invoice.due_date,
            "status": invoice.status,
        }
    }


def reminder(reminder) -> dict:
    return {
        "reminder": {
            "id": reminder.pk,
            "step": reminder.step,
            "final_notice": reminder.is_final_notice,
            "sent_on": reminder.sent_on,
            "policy_version": reminder.policy.version,
        },
        **invoice(reminder.invoice),
    }


def suspension(suspension) -> dict:
    subscription = suspension.subscription
    return {
        "suspension": {
            "id": suspension.pk,
            "reason": suspension.reason,
            "state": suspension.state,
            "invoice": suspension.invoice_id,
        },
        "subscription": {
            "id": subscription.pk,
            "customer": subscription.customer_id,
            "partner_center_id": subscription.partner_center_id,
            "offer_name": subscription.offer_name,
            "status": subscription.status,
        },
    }
