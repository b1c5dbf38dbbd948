"""E-mail coming in: replies to notifications, new requests to a partner's support address, and
the messages an agent must decide on.

`inbound_message_receive(*, raw_bytes)` is the one entrance (the webhook on the platform host
and the `read_mailbox` command both call it):

- a reply address (`reply+<token>@INBOUND_EMAIL_DOMAIN`, tickets.email_tokens) among To, Cc or
  Delivered-To routes the message to its ticket: a verified token, a ticket of that partner,
  a recipient who may reply on it, and a sender who is that recipient → a public reply,
  through tickets.services.ticket_reply, quoted history cut off, attachments through the upload
  rules (a refused file is noted, not fatal). A forged token is logged for the operator
  (InboundRejection) and never reaches a partner; an expired one, or one whose ticket or
  person does not match, is logged as a rejected InboundMessage of its partner;
- the partner's support address (Partner.support_email) from an active customer contact
  opens a ticket (channel e-mail); from anyone else the message is held for an agent, who
  accepts it (a ticket for a chosen customer) or discards it;
- a Microsoft case number in the subject is offered first to the handlers other apps
  registered (`register_case_handler`): the escalation app files Microsoft's mail there,
  without tickets importing it;
- the same message delivered twice is applied once (unique (partner, dedupe_key));
- malformed MIME is refused and nothing is stored in tickets.

Every tenant write happens inside `partner_scope(partner)`, once a verified token or the
support address has named the partner (Partner itself has no row-level security).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from csp_portal.accounts.models import CustomerContact, Membership, Partner, User
from csp_portal.accounts.tenancy import partner_scope

from . import selectors
from .email_models import InboundMessage, InboundRejection
from .email_parse import MalformedMessage, ParsedAttachment, ParsedEmail, parse_message
from .email_tokens import ReplyTokenExpired, ReplyTokenInvalid, reply_token_read, reply_tokens_in
from .models import Ticket, TicketAttachment, TicketMessage
from .services import ticket_create, ticket_reply
from .uploads import check_uploads

log = logging.getLogger(__name__)
Status = InboundMessage.Status
PLAIN = TicketMessage.Format.PLAIN


@dataclass
class InboundResult:
    """What became of one message. `outcome`: applied, held, rejected, duplicate, malformed."""

    outcome: str
    reason: str = ""
    partner_id: int | None = None
    inbound_id: int | None = None
    ticket_id: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# -- Microsoft case numbers ---------------------------------------------------------------

# Case numbers as Microsoft support writes them in subjects: "TrackingID#2401150040001234",
# "Case 2401150040001234", "SR# 2401150040001234" (15-16 digits: a date and a sequence), and
# the older Premier "SRX1234567890ID".
CASE_NUMBER_PATTERNS = (
    re.compile(r"TrackingID\s*#\s*(\d{15,16})\b", re.IGNORECASE),
    re.compile(
        r"\b(?:case|SR|service request|support request|ondersteuningsaanvraag|zaak)"
        r"\s*(?:number|nr\.?|no\.?|nummer|ID)?\s*[#:]?\s*(\d{15,16})\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(SR[XZ]\d{10,12}[A-Z]{2})\b"),
)

CaseHandler = Callable[..., "Ticket | None"]
_case_handlers: list[CaseHandler] = []


def case_number_from(subject: str) -> str | None:
    """The Microsoft case number a subject carries, or None."""
    for pattern in CASE_NUMBER_PATTERNS:
        match = pattern.search(subject or "")
        if match:
            return match.group(1).upper()
    return None


def register_case_handler(handler: CaseHandler) -> CaseHandler:
    """Let another app (escalation) take e-mail about a Microsoft case. The handler is called
    as `handler(partner=..., case_number=..., message=ParsedEmail)` inside the partner's scope
    and the inbound transaction, for a message to the partner's support address whose subject
    carries a case number. It files the message where it belongs (through tickets.services)
    and returns that Ticket, or returns None to leave the message to the usual rules. A
    ValidationError holds the message for an agent, with its text as the reason. Call it from
    the other app's AppConfig.ready(); registering twice has no effect. Usable as decorator."""
    if handler not in _case_handlers:
        _case_handlers.append(handler)
    return handler


def unregister_case_handler(handler: CaseHandler) -> None:
    if handler in _case_handlers:
        _case_handlers.remove(handler)


# -- receiving ----------------------------------------------------------------------------


def inbound_message_receive(*, raw_bytes: bytes) -> InboundResult:
    """Apply one raw RFC 5322 message (see the module's docstring); never raises for bad
    input: the result says what happened."""
    if len(raw_bytes) > settings.INBOUND_EMAIL_MAX_BYTES:
        return _reject_unrouted(
            None,
            reason=f"message larger than {settings.INBOUND_EMAIL_MAX_BYTES} bytes",
            size=len(raw_bytes),
        )
    try:
        parsed = parse_message(raw_bytes)
    except MalformedMessage as error:
        return _reject_unrouted(
            None, reason=f"malformed message: {error}", size=len(raw_bytes), outcome="malformed"
        )
    tokens = reply_tokens_in(parsed.recipients)
    if tokens:
        return _receive_reply(parsed, tokens[0], raw_bytes)
    partner, address = _partner_by_support_address(parsed.recipients)
    if partner is None:
        return _reject_unrouted(
            parsed,
            reason=address or "no reply address or partner support address among the recipients",
            size=len(raw_bytes),
        )
    return _receive_for_support_address(parsed, partner, address, raw_bytes)


def _partner_by_support_address(recipients: list[str]) -> tuple[Partner | None, str]:
    for address in recipients:
        partners = list(
            Partner.objects.filter(support_email__iexact=address, is_active=True).only(
                "pk", "default_language", "support_email", "slug"
            )[:2]
        )
        if len(partners) == 1:
            return partners[0], address
        if len(partners) > 1:
            return None, f"{address} is the support address of more than one partner"
    return None, ""


def _reject_unrouted(parsed: ParsedEmail | None, *, reason: str, size: int, outcome="rejected"):
    """Refused before any partner could be trusted with it: the operator's log only."""
    row = InboundRejection.objects.create(
        message_id=parsed.message_id if parsed else "",
        sender=parsed.sender[:254] if parsed else "",
        recipients=", ".join(parsed.recipients)[:2000] if parsed else "",
        subject=parsed.subject if parsed else "",
        reason=reason[:300],
        size=size,
    )
    log.warning("inbound e-mail refused (%s): rejection %s: %s", outcome, row.pk, reason)
    return InboundResult(outcome=outcome, reason=reason)


def _record(partner, parsed: ParsedEmail, *, recipient: str) -> InboundMessage | None:
    """The partner's row for this message, or None when it was received before."""
    try:
        with transaction.atomic():
            return InboundMessage.objects.create(
                partner=partner,
                dedupe_key=parsed.dedupe_key,
                message_id=parsed.message_id,
                sender=parsed.sender[:254],
                sender_name=parsed.sender_name,
                recipient=recipient[:254],
                subject=parsed.subject,
                body=parsed.text,
                status=Status.HELD,
            )
    except IntegrityError:
        return None


def _finish(inbound: InboundMessage, status: str, *, reason="", ticket=None, raw_bytes=None):
    inbound.status = status
    inbound.reason = str(reason)[:300]
    if ticket is not None:
        inbound.ticket = ticket
    if raw_bytes is not None and status == Status.HELD:
        # Kept so an agent's "accept" can still take the attachments.
        inbound.raw.save("message.eml", ContentFile(raw_bytes), save=False)
    inbound.save()
    level = logging.WARNING if status == Status.REJECTED else logging.INFO
    log.log(
        level,
        "inbound e-mail %s for partner %s (inbound %s, ticket %s): %s",
        status,
        inbound.partner_id,
        inbound.pk,
        inbound.ticket_id,
        inbound.reason,
    )
    outcome = {Status.APPLIED: "applied", Status.HELD: "held"}.get(status, "rejected")
    return InboundResult(
        outcome=outcome,
        reason=inbound.reason,
        partner_id=inbound.partner_id,
        inbound_id=inbound.pk,
        ticket_id=inbound.ticket_id,
    )


def _duplicate(partner, parsed: ParsedEmail) -> InboundResult:
    log.info("inbound e-mail for partner %s received before: %s", partner.pk, parsed.message_id)
    return InboundResult(
        outcome="duplicate", reason="received before", partner_id=partner.pk, inbound_id=None
    )


def _checked_uploads(
    *, ticket: Ticket | None, attachments: list[ParsedAttachment]
) -> tuple[list, list[str]]:
    """The attachments the ticket's upload rules accept, as uploads, and one note for each
    refused file (too large, empty, a type not accepted, the ticket's total exceeded)."""
    existing = 0
    if ticket is not None:
        existing = (
            TicketAttachment.objects.for_partner(ticket.partner_id)
            .filter(ticket=ticket)
            .aggregate(total=Coalesce(Sum("size"), 0))["total"]
        )
    accepted, notes = [], []
    for attachment in attachments:
        if len(attachment.content) > settings.TICKET_ATTACHMENT_MAX_BYTES:
            notes.append(
                _("%(name)s is larger than %(limit)s, the limit per file.")
                % {
                    "name": attachment.filename,
                    "limit": filesizeformat(settings.TICKET_ATTACHMENT_MAX_BYTES),
                }
            )
            continue
        upload = SimpleUploadedFile(attachment.filename, attachment.content)
        try:
            check_uploads([upload], existing_total=existing + sum(u.size for u in accepted))
        except ValidationError as error:
            notes.extend(error.messages)
        else:
            accepted.append(upload)
    return accepted, notes


def _body_with_notes(text: str, notes: list[str]) -> str:
    if not notes:
        return text
    lines = "\n".join(
        _("[Attachment not accepted: %(reason)s]") % {"reason": note} for note in notes
    )
    return f"{text}\n\n{lines}".strip()


def _may_reply(*, partner, ticket: Ticket, user: User) -> bool:
    """The person a reply address was issued to may still answer on this ticket: an active
    staff member, or a contact who sees the ticket on the portal."""
    if Membership.objects.for_partner(partner).filter(user=user, is_active=True).exists():
        return True
    contact = (
        CustomerContact.objects.for_partner(partner)
        .filter(user=user, is_active=True)
        .select_related("customer")
        .first()
    )
    return (
        contact is not None
        and selectors.tickets_for_contact(partner=partner, contact=contact)
        .filter(pk=ticket.pk)
        .exists()
    )


def _receive_reply(parsed: ParsedEmail, token: str, raw_bytes: bytes) -> InboundResult:
    expired = False
    try:
        claims = reply_token_read(token)
    except ReplyTokenExpired as error:
        claims, expired = error.token, True
    except ReplyTokenInvalid:
        return _reject_unrouted(parsed, reason=ReplyTokenInvalid.reason, size=len(raw_bytes))
    partner = Partner.objects.filter(pk=claims.partner_id, is_active=True).first()
    if partner is None:
        return _reject_unrouted(
            parsed, reason="reply address of an unknown or inactive partner", size=len(raw_bytes)
        )
    recipient = next(a for a in parsed.recipients if token.lower() in a.lower())
    with partner_scope(partner), translation.override(partner.default_language):
        inbound = _record(partner, parsed, recipient=recipient)
        if inbound is None:
            return _duplicate(partner, parsed)
        if expired:
            return _finish(inbound, Status.REJECTED, reason=ReplyTokenExpired.reason)
        if parsed.is_automatic:
            return _finish(inbound, Status.REJECTED, reason="automatic reply (absence, bounce)")
        ticket = Ticket.objects.for_partner(partner).filter(pk=claims.ticket_id).first()
        for _hop in range(5):  # a merged ticket's replies go to the ticket it was merged into
            if ticket is None or not ticket.merged_into_id:
                break
            ticket = Ticket.objects.for_partner(partner).filter(pk=ticket.merged_into_id).first()
        if ticket is None:
            return _finish(inbound, Status.REJECTED, reason="the reply address's ticket is gone")
        author = User.objects.filter(pk=claims.user_id, is_active=True).first()
        if author is None or not _may_reply(partner=partner, ticket=ticket, user=author):
            return _finish(
                inbound,
                Status.REJECTED,
                reason="the reply address's recipient may not answer on this ticket",
            )
        if parsed.sender != author.email.lower():
            return _finish(
                inbound,
                Status.REJECTED,
                reason=f"sent from {parsed.sender}, not by the reply address's recipient",
            )
        uploads, notes = _checked_uploads(ticket=ticket, attachments=parsed.attachments)
        inbound.notes = notes
        try:
            ticket_reply(
                ticket=ticket,
                author=author,
                body=_body_with_notes(parsed.text, notes),
                public=True,
                attachments=uploads,
                body_format=PLAIN,
            )
        except ValidationError as error:
            # e.g. the ticket is closed: an agent decides (a new ticket, or discard).
            return _finish(
                inbound,
                Status.HELD,
                reason=" ".join(error.messages),
                ticket=ticket,
                raw_bytes=raw_bytes,
            )
        return _finish(inbound, Status.APPLIED, ticket=ticket)


def _receive_for_support_address(
    parsed: ParsedEmail, partner: Partner, address: str, raw_bytes: bytes
) -> InboundResult:
    with partner_scope(partner), translation.override(partner.default_language):
        inbound = _record(partner, parsed, recipient=address)
        if inbound is None:
            return _duplicate(partner, parsed)
        if parsed.is_automatic:
            return _finish(inbound, Status.REJECTED, reason="automatic reply (absence, bounce)")
        case_number = case_number_from(parsed.subject)
        if case_number:
            inbound.case_number = case_number
            try:
                for handler in list(_case_handlers):
                    ticket = handler(partner=partner, case_number=case_number, message=parsed)
                    if ticket is not None:
                        return _finish(
                            inbound,
                            Status.APPLIED,
                            reason=f"Microsoft case {case_number}",
                            ticket=ticket,
                        )
            except ValidationError as error:
                return _finish(
                    inbound, Status.HELD, reason=" ".join(error.messages), raw_bytes=raw_bytes
                )
        contact = (
            CustomerContact.objects.for_partner(partner)
            .filter(user__email__iexact=parsed.sender, is_active=True, user__is_active=True)
            .select_related("user", "customer")
            .first()
        )
        if contact is None:
            return _finish(
                inbound,
                Status.HELD,
                reason="the sender is not a contact of any customer",
                raw_bytes=raw_bytes,
            )
        uploads, notes = _checked_uploads(ticket=None, attachments=parsed.attachments)
        inbound.notes = notes
        try:
            ticket = ticket_create(
                partner=partner,
                customer=contact.customer,
                requester=contact.user,
                kind=Ticket.Kind.TECHNICAL,
                product=Ticket.Product.OTHER,
                subject=parsed.subject or _("(no subject)"),
                body=_body_with_notes(parsed.text, notes) or _("(The e-mail had no text.)"),
                channel=Ticket.Channel.EMAIL,
                attachments=uploads,
                acting_user=contact.user,
                body_format=PLAIN,
            )
        except ValidationError as error:
            return _finish(
                inbound, Status.HELD, reason=" ".join(error.messages), raw_bytes=raw_bytes
            )
        return _finish(inbound, Status.APPLIED, ticket=ticket)


# -- an agent's decision on a held message ------------------------------------------------


def _lock_held(inbound: InboundMessage) -> InboundMessage:
    locked = (
        InboundMessage.objects.for_partner(inbound.partner_id)
        .select_for_update()
        .get(pk=inbound.pk)
    )
    if locked.status != Status.HELD:
        raise ValidationError(_("Another agent has already decided on this message."))
    return locked


@transaction.atomic
def inbound_message_accept(
    *, inbound: InboundMessage, acting_user, customer, requester=None, kind: str, product: str
) -> Ticket:
    """Open a ticket for `customer` from a held message. With `requester` (a contact of that
    customer) the message is theirs; otherwise the agent files it, naming the sender."""
    inbound = _lock_held(inbound)
    if customer.partner_id != inbound.partner_id:
        raise ValidationError(_("Unknown customer."))
    if requester is not None and requester.customer_id != customer.pk:
        raise ValidationError(_("This person is not a contact of that customer."))
    attachments = parse_message(inbound.raw.read()).attachments if inbound.raw else []
    uploads, notes = _checked_uploads(ticket=None, attachments=attachments)
    body = _body_with_notes(inbound.body, notes) or _("(The e-mail had no text.)")
    if requester is None:
        sender = f"{inbound.sender_name} <{inbound.sender}>" if inbound.sender_name else ""
        body = _("E-mail from %(sender)s:") % {"sender": sender or inbound.sender} + "\n\n" + body
    ticket = ticket_create(
        partner=customer.partner,
        customer=customer,
        requester=requester.user if requester else None,
        kind=kind,
        product=product,
        subject=inbound.subject or _("(no subject)"),
        body=body,
        channel=Ticket.Channel.EMAIL,
        attachments=uploads,
        acting_user=requester.user if requester else acting_user,
        body_format=PLAIN,
    )
    inbound.status = Status.ACCEPTED
    inbound.ticket = ticket
    inbound.notes = [*inbound.notes, *notes]
    inbound.decided_by = acting_user
    inbound.decided_at = timezone.now()
    inbound.save()
    return ticket


@transaction.atomic
def inbound_message_discard(*, inbound: InboundMessage, acting_user) -> InboundMessage:
    """Drop a held message; its stored copy is deleted once the decision is committed."""
    inbound = _lock_held(inbound)
    inbound.status = Status.DISCARDED
    inbound.decided_by = acting_user
    inbound.decided_at = timezone.now()
    raw = inbound.raw
    if raw:
        storage, name = raw.storage, raw.name
        transaction.on_commit(lambda: storage.delete(name))
        inbound.raw = ""
    inbound.save()
    return inbound


# -- reads for the agents' page -----------------------------------------------------------

LIST_STATUSES = {
    "held": [Status.HELD],
    "rejected": [Status.REJECTED],
    "done": [Status.APPLIED, Status.ACCEPTED, Status.DISCARDED],
}


def inbound_message_list(*, partner, view: str = "held"):
    return (
        InboundMessage.objects.for_partner(partner)
        .filter(status__in=LIST_STATUSES.get(view, LIST_STATUSES["held"]))
        .select_related("ticket", "decided_by")
        .defer("body")
        .order_by("-received_at", "-pk")
    )


def inbound_message_counts(*, partner) -> dict[str, int]:
    counts = dict(
        InboundMessage.objects.for_partner(partner)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        view: sum(counts.get(s, 0) for s in statuses) for view, statuses in LIST_STATUSES.items()
    }
