"""E-mail going out: a ticket event's notification, built for one recipient.

Multipart (plain text + HTML) in the partner's branding — its name as the sender's name, its
colour, its logo by URL from its own portal — and in the recipient's language. A recipient who
is a person gets `Reply-To: reply+<token>@INBOUND_EMAIL_DOMAIN` (tickets.email_tokens), so
answering the e-mail lands on the ticket (tickets.email_in). The task that sends it is
tickets.tasks.notify_ticket_event, after commit.
"""

from __future__ import annotations

import hashlib
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from csp_portal.accounts.urls_util import partner_url

from .email_tokens import reply_address
from .models import TicketEvent, TicketMessage
from .rendering import render_body


def notification_recipients(event: TicketEvent, audience: str) -> list[tuple[str, object]]:
    """(address, user or None) for the customer ("customer": the requester) or the desk
    ("staff": the assignee unless they acted themselves, else the partner's support address)."""
    ticket = event.ticket
    if audience == "customer":
        return [(ticket.requester.email, ticket.requester)] if ticket.requester_id else []
    if ticket.assignee_id:
        if ticket.assignee_id == event.actor_id:
            return []
        return [(ticket.assignee.email, ticket.assignee)]
    support = ticket.partner.support_email
    return [(support, None)] if support else []


def notification_language(*, partner, ticket, audience: str, user) -> str:
    if user is not None and user.language:
        return user.language
    if audience == "customer":
        return ticket.customer.language or partner.default_language
    return partner.default_language


def thread_id(ticket) -> str:
    """The Message-ID every notification of `ticket` refers to, so mail clients thread them."""
    return f"<ticket-{ticket.partner_id}-{ticket.pk}@{settings.INBOUND_EMAIL_DOMAIN}>"


def _message_id(event: TicketEvent, audience: str, address: str) -> str:
    # Stable, so a retried task sends the same message and the recipient's server can drop it.
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:10]
    return (
        f"<ticket-{event.ticket.partner_id}-{event.ticket_id}.event-{event.pk}."
        f"{audience}.{digest}@{settings.INBOUND_EMAIL_DOMAIN}>"
    )


def notification_build(
    *, partner, event: TicketEvent, audience: str, message: TicketMessage | None, address, user
) -> EmailMultiAlternatives:
    """The e-mail telling `address` (`user`, or None for the support address) about `event`.
    A customer never receives an internal note: the caller passes public messages only."""
    ticket = event.ticket
    view = "requests:request-detail" if audience == "customer" else "tickets:ticket-detail"
    reply_to = None
    if user is not None:
        reply_to = reply_address(partner_id=partner.pk, ticket_id=ticket.pk, user_id=user.pk)
    language = notification_language(partner=partner, ticket=ticket, audience=audience, user=user)
    with translation.override(language):
        context = {
            "partner": partner,
            "event": event,
            "ticket": ticket,
            "message": message,
            "message_html": render_body(message.body, message.body_format) if message else "",
            "url": partner_url(partner, view, ticket_id=ticket.pk),
            "logo_url": partner_url(partner, "portal:logo") if partner.logo else "",
            "colour": partner.primary_colour,
            "can_reply": reply_to is not None,
            "language": language,
        }
        subject = render_to_string("tickets/email/event_subject.txt", context).strip()
        text = render_to_string("tickets/email/event.txt", context)
        html = render_to_string("tickets/email/event.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.splitlines()),
        body=text,
        from_email=formataddr((partner.display_name, settings.DEFAULT_FROM_EMAIL)),
        to=[address],
        reply_to=[reply_to]
        if reply_to
        else [partner.support_email]
        if partner.support_email
        else None,
        headers={
            "Message-ID": _message_id(event, audience, address),
            "In-Reply-To": thread_id(ticket),
            "References": thread_id(ticket),
            # An automatic message (RFC 3834): auto-replies are not sent back to it, and the
            # inbound side refuses auto-replies, so no mail loop can start.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "Content-Language": language,
        },
    )
    email.attach_alternative(html, "text/html")
    return email
