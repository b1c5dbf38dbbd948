"""PDF documents with WeasyPrint, partner-branded and in the customer's language: the
invoice, the statement of account (with aging) and the reminder letter."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import selectors
from .models import Invoice, ReminderSent


def _logo_uri(partner) -> str:
    if not partner.logo:
        return ""
    try:
        return partner.logo.path and f"file://{partner.logo.path}"
    except (NotImplementedError, ValueError):
        return ""


def render_pdf(template: str, context: dict, *, language: str) -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template, context)
    return HTML(string=html, base_url=str(settings.MEDIA_ROOT)).write_pdf()


def _base(partner) -> dict:
    return {"partner": partner, "logo_uri": _logo_uri(partner), "brand": partner.primary_colour}


def invoice_pdf(invoice: Invoice) -> bytes:
    partner = invoice.partner
    context = _base(partner) | {
        "invoice": invoice,
        "customer": invoice.customer,
        "lines": list(invoice.lines.select_related("subscription")),
    }
    return render_pdf("billing/pdf/invoice.html", context, language=invoice.customer.language)


def statement_pdf(*, partner, customer, today: date | None = None) -> bytes:
    today = today or timezone.localdate(timezone=partner.tz)
    context = _base(partner) | {
        "customer": customer,
        "today": today,
        **selectors.statement_lines(partner=partner, customer=customer, today=today),
    }
    return render_pdf("billing/pdf/statement.html", context, language=customer.language)


def reminder_context(reminder: ReminderSent) -> dict:
    invoice = reminder.invoice
    partner = invoice.partner
    policy = reminder.policy
    from datetime import timedelta

    return _base(partner) | {
        "reminder": reminder,
        "invoice": invoice,
        "customer": invoice.customer,
        "policy": policy,
        "days_overdue": max((reminder.sent_on - invoice.due_date).days, 0),
        "suspension_date": reminder.sent_on + timedelta(days=policy.grace_days)
        if reminder.is_final_notice
        else None,
        "policy_url": partner.portal_url("/billing/policy/"),
    }


def reminder_pdf(reminder: ReminderSent) -> bytes:
    return render_pdf(
        "billing/pdf/reminder.html",
        reminder_context(reminder),
        language=reminder.invoice.customer.language,
    )


def reminder_filename(reminder: ReminderSent) -> str:
    kind = "final-notice" if reminder.is_final_notice else "reminder"
    return f"{kind}-{reminder.invoice.number}.pdf"
