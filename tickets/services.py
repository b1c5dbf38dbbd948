"""Changes to tickets. Each is atomic, writes the ticket's timeline (TicketEvent) and sends
its e-mail after commit, through Celery."""

from __future__ import annotations

from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum, TextField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal import outbox
from csp_portal.accounts.models import Membership
from csp_portal.webhooks import payloads as webhook_payloads
from csp_portal.webhooks.services import webhook_emit

from . import search
from .models import Ticket, TicketAttachment, TicketCounter, TicketEvent, TicketMessage
from .sla_services import (
    sla_first_response,
    sla_priority_changed,
    sla_status_changed,
    sla_ticket_opened,
)
from .subscriptions import customer_subscriptions
from .uploads import check_uploads

Status = Ticket.Status
_WAITING = {Status.WAITING_ON_CUSTOMER, Status.WAITING_ON_MICROSOFT, Status.WAITING_ON_PROVIDER}
_WORKING = {Status.OPEN, *_WAITING, Status.RESOLVED, Status.CLOSED}

# Which status may follow which. A closed ticket only reopens (to open); a resolved one is
# reopened or closed. Only the services in this module change a ticket's status.
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: _WORKING,
    Status.OPEN: _WORKING - {Status.OPEN},
    Status.WAITING_ON_CUSTOMER: _WORKING - {Status.WAITING_ON_CUSTOMER},
    Status.WAITING_ON_MICROSOFT: _WORKING - {Status.WAITING_ON_MICROSOFT},
    Status.WAITING_ON_PROVIDER: _WORKING - {Status.WAITING_ON_PROVIDER},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: {Status.OPEN},
}

# Priority from impact x urgency, as service desks usually derive it.
PRIORITY_MATRIX = {
    ("high", "high"): Ticket.Priority.URGENT,
    ("high", "medium"): Ticket.Priority.HIGH,
    ("medium", "high"): Ticket.Priority.HIGH,
    ("low", "low"): Ticket.Priority.LOW,
}


def priority_for(*, impact: str, urgency: str) -> str:
    return PRIORITY_MATRIX.get((impact, urgency), Ticket.Priority.NORMAL)


def reference_prefix(partner) -> str:
    letters = "".join(ch for ch in partner.slug.upper() if ch.isalpha())
    return (letters[:3] or "TKT").ljust(3, "X")


def ticket_number_allocate(*, partner) -> tuple[int, str]:
    """The partner's next ticket number and its reference. One statement that creates or
    advances the partner's counter row, so concurrent requests queue on that row and each
    receives its own number (the row lock is held until the caller's transaction ends)."""
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS counter (partner_id, prefix, last_number)
            VALUES (%s, %s, 1001)
            ON CONFLICT (partner_id) DO UPDATE SET last_number = counter.last_number + 1
            RETURNING last_number, prefix
            """,  # noqa: S608 — the table name is our own model's, values are parameters
            [partner.pk, reference_prefix(partner)],
        )
        number, prefix = cursor.fetchone()
    return number, f"{prefix}-{number}"


def _is_staff(*, partner, user) -> bool:
    return (
        user is not None
        and Membership.objects.for_partner(partner).filter(user=user, is_active=True).exists()
    )


def _event(ticket: Ticket, kind: str, actor=None, **data) -> TicketEvent:
    return TicketEvent.objects.create(
        partner_id=ticket.partner_id, ticket=ticket, actor=actor, kind=kind, data=data
    )


def _notify(event: TicketEvent, audience: str) -> None:
    """E-mail the `audience` ("customer" or "staff") about `event`, after commit."""
    from .tasks import notify_ticket_event

    outbox.enqueue(
        notify_ticket_event, partner_id=event.partner_id, event_id=event.pk, audience=audience
    )


def ticket_search_vector_refresh(*, ticket: Ticket) -> None:
    """Recompute the ticket's search vector from its subject and its messages (internal notes
    included: only staff search)."""
    bodies = (
        TicketMessage.objects.for_partner(ticket.partner_id)
        .filter(ticket=OuterRef("pk"))
        .values("ticket")
        .annotate(text=StringAgg("body", delimiter=" "))
        .values("text")
    )
    Ticket.objects.for_partner(ticket.partner_id).filter(pk=ticket.pk).update(
        search_vector=SearchVector("reference", "subject", weight="A", config="simple")
        + SearchVector(
            Coalesce(Subquery(bodies), Value(""), output_field=TextField()),
            weight="B",
            config="simple",
        )
        + search.scope_vector(ticket.partner_id)
    )


def _store_attachments(*, ticket: Ticket, message: TicketMessage, attachments) -> None:
    if not attachments:
        return
    existing = (
        TicketAttachment.objects.for_partner(ticket.partner_id)
        .filter(ticket=ticket)
        .aggregate(total=Coalesce(Sum("size"), 0))["total"]
    )
    for upload, content_type in check_uploads(attachments, existing_total=existing):
        attachment = TicketAttachment(
            partner_id=ticket.partner_id,
            ticket=ticket,
            message=message,
            original_name=(upload.name or "file")[-200:],
            content_type=content_type,
            size=upload.size,
        )
        attachment.file.save(upload.name or "file", upload, save=False)
        attachment.save()


def _set_status(ticket: Ticket, status: str, *, actor, now) -> TicketEvent | None:
    """Move `ticket` (locked by the caller) to `status`, checked against TRANSITIONS."""
    if status == ticket.status:
        return None
    if status not in TRANSITIONS[ticket.status]:
        raise ValidationError(
            _("A ticket cannot go from %(old)s to %(new)s.")
            % {"old": ticket.get_status_display(), "new": Status(status).label}
        )
    if ticket.merged_into_id:
        raise ValidationError(_("This ticket was merged into another ticket."))
    old = ticket.status
    sla_status_changed(ticket=ticket, old=old, new=status, now=now)
    ticket.status = status
    if status == Status.RESOLVED:
        ticket.resolved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    if old == Status.CLOSED:
        return _event(ticket, TicketEvent.Kind.REOPENED, actor, old=old, new=status)
    return _event(ticket, TicketEvent.Kind.STATUS_CHANGED, actor, old=old, new=status)


def _lock(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.for_partner(ticket.partner_id)
        .select_for_update(of=("self",))
        .select_related("partner", "customer")
        .get(pk=ticket.pk)
    )


@transaction.atomic
def ticket_create(
    *,
    partner,
    customer,
    requester,
    kind: str,
    product: str,
    subject: str,
    body: str,
    priority: str | None = None,
    impact: str = "medium",
    urgency: str = "medium",
    channel: str = Ticket.Channel.PORTAL,
    attachments=(),
    acting_user=None,
    body_format: str = TicketMessage.Format.MARKDOWN,
    subscription_ref: str = "",
) -> Ticket:
    """Open a ticket for `customer`: by its contact on the portal (requester = acting user)
    or by an agent on the customer's behalf (phone or e-mail intake). `subscription_ref`
    names one of the customer's subscriptions (its Partner Center id), if the request
    concerns one."""
    if customer.partner_id != partner.pk:
        raise ValidationError(_("Unknown customer."))
    subscription_name = ""
    if subscription_ref:
        options = {
            option.reference: option.name
            for option in customer_subscriptions(partner=partner, customer=customer)
        }
        if subscription_ref not in options:
            raise ValidationError(
                {"subscription": _("This is not one of the customer's subscriptions.")}
            )
        subscription_name = options[subscription_ref]
    subject = subject.strip()
    if not subject or not body.strip():
        raise ValidationError(_("A request needs a subject and a description."))
    number, reference = ticket_number_allocate(partner=partner)
    ticket = Ticket.objects.create(
        partner=partner,
        number=number,
        reference=reference,
        customer=customer,
        requester=requester,
        kind=Ticket.Kind(kind),
        product=Ticket.Product(product),
        subject=subject[:200],
        subscription_ref=subscription_ref,
        subscription_name=subscription_name,
        priority=Ticket.Priority(priority or priority_for(impact=impact, urgency=urgency)),
        impact=Ticket.Level(impact),
        urgency=Ticket.Level(urgency),
        channel=Ticket.Channel(channel),
    )
    sla_ticket_opened(ticket=ticket)
    by_staff = acting_user is not None and acting_user != requester
    message = TicketMessage.objects.create(
        partner=partner,
        ticket=ticket,
        author=acting_user or requester,
        body=body,
        body_format=TicketMessage.Format(body_format),
        is_public=True,
        is_from_customer=not by_staff,
    )
    _store_attachments(ticket=ticket, message=message, attachments=attachments)
    event = _event(
        ticket, TicketEvent.Kind.CREATED, acting_user or requester, channel=ticket.channel
    )
    ticket_search_vector_refresh(ticket=ticket)
    _notify(event, "customer")
    _notify(event, "staff")
    webhook_emit(partner=partner, event="ticket.created", payload=webhook_payloads.ticket(ticket))
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author,
    body: str,
    public: bool = True,
    attachments=(),
    status=None,
    body_format: str = TicketMessage.Format.MARKDOWN,
) -> TicketMessage:
    """Add a public reply or (staff only) an internal note.

    A public agent reply records the first response once; the agent may set the status with
    it (a new ticket becomes open when no status is chosen). A customer's reply moves a
    ticket waiting on the customer, or resolved, back to open; a closed ticket is reopened
    first."""
    ticket = _lock(ticket)
    if not body.strip() and not attachments:
        raise ValidationError(_("Write a message or attach a file."))
    by_staff = _is_staff(partner=ticket.partner, user=author)
    if not by_staff and (not public or status is not None):
        raise ValidationError(_("Only the partner's staff can add internal notes."))
    if ticket.status == Status.CLOSED and public:
        raise ValidationError(_("This ticket is closed: reopen it to reply."))
    now = timezone.now()
    message = TicketMessage.objects.create(
        partner_id=ticket.partner_id,
        ticket=ticket,
        author=author,
        body=body,
        body_format=TicketMessage.Format(body_format),
        is_public=public,
        is_from_customer=not by_staff,
    )
    _store_attachments(ticket=ticket, message=message, attachments=attachments)
    kind = TicketEvent.Kind.REPLIED if public else TicketEvent.Kind.NOTE_ADDED
    event = _event(ticket, kind, author, message_id=message.pk)
    status_event = None
    if by_staff and public:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            sla_first_response(ticket=ticket, now=now)
        if status is None and ticket.status == Status.NEW:
            status = Status.OPEN
    elif not by_staff and ticket.status in {Status.WAITING_ON_CUSTOMER, Status.RESOLVED}:
        status = Status.OPEN
    if status is not None:
        status_event = _set_status(ticket, status, actor=author, now=now)
    ticket.save()
    ticket_search_vector_refresh(ticket=ticket)
    if public:
        _notify(event, "staff" if not by_staff else "customer")
    if status_event is not None and by_staff:
        _notify(status_event, "customer")
    webhook_emit(
        partner=ticket.partner_id, event="ticket.updated", payload=webhook_payloads.ticket(ticket)
    )
    return message


@transaction.atomic
def ticket_change(
    *, ticket: Ticket, acting_user, status=None, priority=None, assignee=None, tags=None
) -> Ticket:
    """Agents change a ticket's properties. `assignee=False` unassigns; None leaves it."""
    ticket = _lock(ticket)
    now = timezone.now()
    if ticket.status == Status.CLOSED and status != Status.OPEN:
        raise ValidationError(_("This ticket is closed: reopen it first."))
    notify = []
    if status is not None:
        event = _set_status(ticket, Status(status), actor=acting_user, now=now)
        if event is not None:
            notify.append(event)
    if priority is not None and priority != ticket.priority:
        _event(
            ticket,
            TicketEvent.Kind.PRIORITY_CHANGED,
            acting_user,
            old=ticket.priority,
            new=Ticket.Priority(priority),
        )
        sla_priority_changed(ticket=ticket, old=ticket.priority, new=priority, now=now)
        ticket.priority = priority
    if assignee is not None:
        new_id = assignee.pk if assignee else None
        if new_id is not None and not _is_staff(partner=ticket.partner, user=assignee):
            raise ValidationError(_("Tickets are assigned to the partner's staff only."))
        if new_id != ticket.assignee_id:
            _event(
                ticket,
                TicketEvent.Kind.ASSIGNED,
                acting_user,
                old=ticket.assignee_id,
                new=new_id,
                name=str(assignee) if assignee else "",
            )
            ticket.assignee = assignee or None
    if tags is not None:
        clean = sorted({t.strip().lower()[:40] for t in tags if t.strip()})
        if clean != sorted(ticket.tags):
            _event(ticket, TicketEvent.Kind.TAGS_CHANGED, acting_user, old=ticket.tags, new=clean)
            ticket.tags = clean
    ticket.save()
    for event in notify:
        _notify(event, "customer")
    webhook_emit(
        partner=ticket.partner_id, event="ticket.updated", payload=webhook_payloads.ticket(ticket)
    )
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, acting_user) -> Ticket:
    """The customer (or an agent) closes the ticket."""
    ticket = _lock(ticket)
    if ticket.status == Status.CLOSED:
        raise ValidationError(_("This ticket is already closed."))
    old = ticket.status
    sla_status_changed(ticket=ticket, old=old, new=Status.CLOSED, now=timezone.now())
    ticket.status = Status.CLOSED
    ticket.closed_at = timezone.now()
    ticket.resolved_at = ticket.resolved_at or ticket.closed_at
    event = _event(ticket, TicketEvent.Kind.CLOSED, acting_user, old=old)
    ticket.save()
    _notify(event, "staff")
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, acting_user) -> Ticket:
    ticket = _lock(ticket)
    if ticket.merged_into_id:
        raise ValidationError(_("This ticket was merged into another ticket."))
    if ticket.status not in {Status.RESOLVED, Status.CLOSED}:
        raise ValidationError(_("Only a resolved or closed ticket can be reopened."))
    old = ticket.status
    sla_status_changed(ticket=ticket, old=old, new=Status.OPEN, now=timezone.now())
    ticket.status = Status.OPEN
    ticket.resolved_at = None
    ticket.closed_at = None
    event = _event(ticket, TicketEvent.Kind.REOPENED, acting_user, old=old, new=Status.OPEN)
    ticket.save()
    _notify(event, "staff")
    return ticket


@transaction.atomic
def ticket_rate(*, ticket: Ticket, score: int, comment: str = "", acting_user=None) -> Ticket:
    """The customer rates the resolution (1-5), once the ticket is resolved or closed."""
    ticket = _lock(ticket)
    if ticket.status not in {Status.RESOLVED, Status.CLOSED}:
        raise ValidationError(_("You can rate a request once it is resolved."))
    if ticket.csat_score is not None:
        raise ValidationError(_("This request has already been rated."))
    score = int(score)
    if not 1 <= score <= 5:
        raise ValidationError(_("Choose a rating from 1 to 5."))
    ticket.csat_score = score
    ticket.csat_comment = comment.strip()[:2000]
    _event(ticket, TicketEvent.Kind.RATED, acting_user, score=score)
    ticket.save()
    return ticket


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, acting_user) -> Ticket:
    """Merge a duplicate (`source`) into `target`: same partner and customer. The source's
    messages and attachments are copied to the target (the source keeps its own record); the
    source is closed and points at the target; both timelines say so."""
    if source.pk == target.pk:
        raise ValidationError(_("A ticket cannot be merged into itself."))
    if source.partner_id != target.partner_id or source.customer_id != target.customer_id:
        raise ValidationError(_("Only tickets of the same customer can be merged."))
    # Lock both rows in a fixed order so two opposite merges cannot deadlock.
    first, second = sorted([source, target], key=lambda t: t.pk)
    locked = {t.pk: _lock(t) for t in (first, second)}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise ValidationError(_("One of these tickets was already merged."))
    if target.status == Status.CLOSED:
        raise ValidationError(_("Reopen the target ticket before merging into it."))
    messages = list(
        TicketMessage.objects.for_partner(source.partner_id)
        .filter(ticket=source)
        .prefetch_related("attachments")
    )
    for message in messages:
        copy = TicketMessage.objects.create(
            partner_id=target.partner_id,
            ticket=target,
            author_id=message.author_id,
            body=message.body,
            body_format=message.body_format,
            is_public=message.is_public,
            is_from_customer=message.is_from_customer,
        )
        TicketMessage.objects.for_partner(target.partner_id).filter(pk=copy.pk).update(
            created_at=message.created_at
        )
        TicketAttachment.objects.bulk_create(
            TicketAttachment(
                partner_id=target.partner_id,
                ticket=target,
                message=copy,
                file=attachment.file.name,
                original_name=attachment.original_name,
                content_type=attachment.content_type,
                size=attachment.size,
            )
            for attachment in message.attachments.all()
        )
    now = timezone.now()
    source.merged_into = target
    if source.status != Status.CLOSED:
        sla_status_changed(ticket=source, old=source.status, new=Status.CLOSED, now=now)
        source.status = Status.CLOSED
        source.closed_at = now
    source.save()
    _event(
        source,
        TicketEvent.Kind.MERGED_INTO,
        acting_user,
        target_id=target.pk,
        target=target.reference,
    )
    _event(
        target,
        TicketEvent.Kind.MERGED_FROM,
        acting_user,
        source_id=source.pk,
        source=source.reference,
        messages=len(messages),
    )
    target.save()
    ticket_search_vector_refresh(ticket=target)
    return target
