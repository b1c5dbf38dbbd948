"""E-mail that tickets send, after commit, from a Celery worker."""

from email.utils import formataddr

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from csp_portal.accounts.models import Partner
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.accounts.urls_util import partner_url

from .models import TicketEvent, TicketMessage


def _recipients(event: TicketEvent, audience: str) -> list[str]:
    ticket = event.ticket
    if audience == "customer":
        return [ticket.requester.email] if ticket.requester_id else []
    if ticket.assignee_id:
        return [ticket.assignee.email] if ticket.assignee_id != event.actor_id else []
    return [ticket.partner.support_email] if ticket.partner.support_email else []


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def notify_ticket_event(*, partner_id: int, event_id: int, audience: str) -> None:
    """Tell the customer ("customer") or the desk ("staff") what happened on a ticket. A
    customer never receives the text of an internal note."""
    with partner_scope(partner_id):
        partner = Partner.objects.get(pk=partner_id)
        event = (
            TicketEvent.objects.for_partner(partner)
            .select_related("ticket__requester", "ticket__assignee", "ticket__customer", "actor")
            .filter(pk=event_id)
            .first()
        )
        if event is None:
            return
        event.ticket.partner = partner
        to = _recipients(event, audience)
        if not to:
            return
        message = None
        if event.data.get("message_id"):
            message = (
                TicketMessage.objects.for_partner(partner)
                .filter(pk=event.data["message_id"], is_public=True)
                .first()
            )
        view = "requests:request-detail" if audience == "customer" else "tickets:ticket-detail"
        language = (
            event.ticket.customer.language if audience == "customer" else partner.default_language
        )
        with translation.override(language):
            context = {
                "partner": partner,
                "event": event,
                "ticket": event.ticket,
                "message": message,
                "url": partner_url(partner, view, ticket_id=event.ticket_id),
            }
            subject = render_to_string("tickets/email/event_subject.txt", context).strip()
            body = render_to_string("tickets/email/event.txt", context)
        EmailMessage(
            subject=" ".join(subject.splitlines()),
            body=body,
            from_email=formataddr((partner.display_name, settings.DEFAULT_FROM_EMAIL)),
            to=to,
            reply_to=[partner.support_email] if partner.support_email else None,
        ).send()


@shared_task
def sla_watch() -> None:
    """Beat, every minute: mark SLA breaches and tell the assignee and the queue, once each."""
    from .sla_services import sla_watch_all

    sla_watch_all()


@shared_task
def auto_close_resolved() -> None:
    """Beat, hourly: close resolved tickets left without a reply for the partner's days."""
    from .sla_services import tickets_auto_close_all

    tickets_auto_close_all()
