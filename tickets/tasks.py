"""E-mail that tickets send, after commit, from a Celery worker."""

from celery import shared_task

from csp_portal.accounts.models import Partner
from csp_portal.accounts.tenancy import partner_scope

from .email_out import notification_build, notification_recipients
from .models import TicketEvent, TicketMessage


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
        recipients = notification_recipients(event, audience)
        if not recipients:
            return
        message = None
        if event.data.get("message_id"):
            message = (
                TicketMessage.objects.for_partner(partner)
                .filter(pk=event.data["message_id"], is_public=True)
                .first()
            )
        emails = [
            notification_build(
                partner=partner,
                event=event,
                audience=audience,
                message=message,
                address=address,
                user=user,
            )
            for address, user in recipients
        ]
    for email in emails:
        email.send()


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
