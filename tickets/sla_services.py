"""SLA bookkeeping: the two clocks of a ticket, their pauses, the breach watch and the
auto-close of resolved tickets.

The clocks, counted in the partner's service hours (tickets.sla):
- first response: from the ticket's creation to the first public agent reply; it never pauses.
- resolution: runs while the ticket is new or open; stands while it waits on the customer, on
  Microsoft or on the provider (a recorded `SlaPause` with that reason) and while it is
  resolved or closed. When it stands, the business seconds it had left are kept on the ticket;
  when it runs again, the due time is recomputed from them.

Due times are stored on the ticket (`first_response_due_at`, `resolution_due_at`), so lists and
the watch read them instead of computing. tickets.services calls the hooks here from its
status, reply and priority rules, inside its transaction, with the ticket's row locked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import formataddr
from functools import cached_property

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation

from csp_portal import outbox
from csp_portal.accounts.models import Holiday, Membership, Partner, Role, ServiceHours
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.accounts.urls_util import partner_url

from .models import DeskSettings, SlaBreach, SlaPause, SlaTarget, Ticket, TicketEvent
from .sla import BusinessCalendar, add_business_seconds, business_seconds_between

logger = logging.getLogger(__name__)

Status = Ticket.Status
Clock = SlaBreach.Clock

RUNNING = frozenset({Status.NEW, Status.OPEN})
PAUSED = frozenset(
    {Status.WAITING_ON_CUSTOMER, Status.WAITING_ON_MICROSOFT, Status.WAITING_ON_PROVIDER}
)

# Business minutes (first response, resolution) a partner starts with, per priority; the
# partner's global admin changes them. Counted in service hours, so "normal" resolves within
# three working days of eight hours.
DEFAULT_TARGETS = {
    Ticket.Priority.URGENT: (30, 4 * 60),
    Ticket.Priority.HIGH: (60, 8 * 60),
    Ticket.Priority.NORMAL: (4 * 60, 3 * 8 * 60),
    Ticket.Priority.LOW: (8 * 60, 5 * 8 * 60),
}

BATCH_SIZE = 200


# -- the partner's calendar and targets ---------------------------------------------------


def partner_calendar(*, partner: Partner) -> BusinessCalendar:
    """The partner's service hours, holidays and time zone (two queries)."""
    hours = ServiceHours.objects.for_partner(partner).values_list("weekday", "opens", "closes")
    holidays = Holiday.objects.for_partner(partner).values_list("date", flat=True)
    return BusinessCalendar.build(time_zone=partner.time_zone, hours=hours, holidays=holidays)


def sla_targets(*, partner: Partner) -> dict[str, SlaTarget]:
    """The partner's target per priority; the defaults are stored the first time they are
    needed, so an admin sees and edits real rows."""
    targets = {t.priority: t for t in SlaTarget.objects.for_partner(partner)}
    missing = [priority for priority in DEFAULT_TARGETS if priority not in targets]
    if missing:
        SlaTarget.objects.bulk_create(
            [
                SlaTarget(
                    partner_id=getattr(partner, "pk", partner),
                    priority=priority,
                    first_response_minutes=DEFAULT_TARGETS[priority][0],
                    resolution_minutes=DEFAULT_TARGETS[priority][1],
                )
                for priority in missing
            ],
            ignore_conflicts=True,
        )
        targets = {t.priority: t for t in SlaTarget.objects.for_partner(partner)}
    return targets


def desk_settings(*, partner: Partner) -> DeskSettings:
    """The partner's desk settings (unsaved defaults when it never changed them)."""
    found = DeskSettings.objects.for_partner(partner).first()
    return found or DeskSettings(partner_id=getattr(partner, "pk", partner))


class SlaPolicy:
    """A partner's calendar and targets, loaded on first use and reused for many tickets."""

    def __init__(self, partner: Partner):
        self.partner = partner

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return partner_calendar(partner=self.partner)

    @cached_property
    def targets(self) -> dict[str, SlaTarget]:
        return sla_targets(partner=self.partner)

    def first_response_seconds(self, priority: str) -> int:
        return self.targets[priority].first_response_minutes * 60

    def resolution_seconds(self, priority: str) -> int:
        return self.targets[priority].resolution_minutes * 60


# -- hooks called by tickets.services -----------------------------------------------------


def sla_ticket_opened(*, ticket: Ticket, policy: SlaPolicy | None = None) -> None:
    """Start both clocks of a new ticket at its creation."""
    policy = policy or SlaPolicy(ticket.partner)
    start = ticket.created_at
    ticket.first_response_due_at = add_business_seconds(
        start, policy.first_response_seconds(ticket.priority), policy.calendar
    )
    ticket.resolution_due_at = add_business_seconds(
        start, policy.resolution_seconds(ticket.priority), policy.calendar
    )
    ticket.resolution_seconds_left = None
    Ticket.objects.for_partner(ticket.partner_id).filter(pk=ticket.pk).update(
        first_response_due_at=ticket.first_response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        resolution_seconds_left=None,
    )


def sla_first_response(*, ticket: Ticket, now: datetime) -> None:
    """The first public agent reply stops the first-response clock; a late one is recorded
    as a breach (not announced: the answer is already there)."""
    due = ticket.first_response_due_at
    if due is not None and now > due:
        _record_breaches(
            ticket.partner_id, [(ticket.pk, due)], Clock.FIRST_RESPONSE, now, notice_required=False
        )


def sla_status_changed(
    *, ticket: Ticket, old: str, new: str, now: datetime, policy: SlaPolicy | None = None
) -> None:
    """Pause, stop or restart the resolution clock for a status change of `ticket` (locked by
    the caller, who saves it). A pause row is written for each waiting interval."""
    if old == new:
        return
    policy = policy or SlaPolicy(ticket.partner)
    if old in PAUSED:
        _end_pause(ticket, now, policy)
    if new in PAUSED:
        SlaPause.objects.create(
            partner_id=ticket.partner_id, ticket=ticket, reason=new, started_at=now
        )
    if old in RUNNING and new not in RUNNING and ticket.resolution_seconds_left is None:
        due = ticket.resolution_due_at
        if due is None:
            return
        ticket.resolution_seconds_left = business_seconds_between(now, due, policy.calendar)
        if now > due:
            _record_breaches(
                ticket.partner_id, [(ticket.pk, due)], Clock.RESOLUTION, now, notice_required=False
            )
    elif new in RUNNING and old not in RUNNING and ticket.resolution_seconds_left is not None:
        ticket.resolution_due_at = add_business_seconds(
            now, ticket.resolution_seconds_left, policy.calendar
        )
        ticket.resolution_seconds_left = None


def sla_priority_changed(
    *, ticket: Ticket, old: str, new: str, now: datetime, policy: SlaPolicy | None = None
) -> None:
    """Move the due times to the new priority's targets, keeping the time already used."""
    if old == new or (ticket.resolution_due_at is None and ticket.resolution_seconds_left is None):
        return
    policy = policy or SlaPolicy(ticket.partner)
    if ticket.first_response_at is None:
        ticket.first_response_due_at = add_business_seconds(
            ticket.created_at, policy.first_response_seconds(new), policy.calendar
        )
    change = policy.resolution_seconds(new) - policy.resolution_seconds(old)
    if ticket.resolution_seconds_left is not None:
        ticket.resolution_seconds_left += change
    else:
        left = business_seconds_between(now, ticket.resolution_due_at, policy.calendar)
        ticket.resolution_due_at = add_business_seconds(now, left + change, policy.calendar)


def _end_pause(ticket: Ticket, now: datetime, policy: SlaPolicy) -> None:
    pause = (
        SlaPause.objects.for_partner(ticket.partner_id)
        .filter(ticket=ticket, ended_at__isnull=True)
        .first()
    )
    if pause is None:
        return
    pause.ended_at = max(now, pause.started_at)
    pause.business_seconds = max(
        0, business_seconds_between(pause.started_at, pause.ended_at, policy.calendar)
    )
    pause.save(update_fields=["ended_at", "business_seconds"])


def _record_breaches(
    partner_id: int,
    rows: list[tuple[int, datetime]],
    clock: str,
    now: datetime,
    *,
    notice_required: bool,
) -> list[int]:
    """Insert a breach per (ticket id, due) unless that clock of that ticket already has one;
    return the ticket ids that were newly marked (one statement, safe under concurrency)."""
    if not rows:
        return []
    table = SlaBreach._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for ticket_id, due in rows:
        params += [partner_id, ticket_id, clock, due, now, notice_required]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (partner_id, ticket_id, clock, due_at, detected_at, notice_required)
            VALUES {values}
            ON CONFLICT (partner_id, ticket_id, clock) DO NOTHING
            RETURNING ticket_id
            """,  # noqa: S608 — the table name is our own model's, values are parameters
            params,
        )
        return [row[0] for row in cursor.fetchall()]


# -- the breach watch ---------------------------------------------------------------------


def _overdue(partner: Partner, clock: str, now: datetime):
    tickets = Ticket.objects.for_partner(partner)
    breached = SlaBreach.objects.for_partner(partner).filter(ticket=OuterRef("pk"), clock=clock)
    if clock == Clock.FIRST_RESPONSE:
        tickets = tickets.filter(
            first_response_at__isnull=True,
            first_response_due_at__lte=now,
            status__in=Ticket.OPEN_STATUSES,
        )
        due_field = "first_response_due_at"
    else:
        tickets = tickets.filter(status__in=RUNNING, resolution_due_at__lte=now)
        due_field = "resolution_due_at"
    return (
        tickets.filter(~Exists(breached))
        .order_by(due_field, "pk")
        .values_list("pk", due_field, "reference")
    )


def sla_mark_breaches(*, partner: Partner, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Mark every running clock of `partner` that ran out by `now` (a breach row and a line on
    the ticket's timeline), in batches of bounded queries. Returns how many were marked."""
    marked = 0
    for clock in (Clock.FIRST_RESPONSE, Clock.RESOLUTION):
        while True:
            with partner_scope(partner):
                rows = list(_overdue(partner, clock, now)[:batch_size])
                new = set(
                    _record_breaches(
                        partner.pk, [(pk, due) for pk, due, _ref in rows], clock, now,
                        notice_required=True,
                    )
                )  # fmt: skip
                TicketEvent.objects.bulk_create(
                    TicketEvent(
                        partner_id=partner.pk,
                        ticket_id=pk,
                        actor=None,
                        kind=TicketEvent.Kind.SLA_BREACHED,
                        data={"clock": str(clock), "due_at": due.isoformat()},
                    )
                    for pk, due, _ref in rows
                    if pk in new
                )
            marked += len(new)
            if len(rows) < batch_size:
                break
    return marked


def _helpdesk_addresses(partner: Partner) -> list[str]:
    emails = list(
        Membership.objects.for_partner(partner)
        .filter(is_active=True, roles__contains=[Role.HELPDESK_AGENT], user__is_active=True)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    if not emails and partner.support_email:
        emails = [partner.support_email]
    return emails


def _breach_message(partner: Partner, breach: SlaBreach, to: list[str]) -> EmailMessage:
    ticket = breach.ticket
    ticket.partner = partner
    with translation.override(partner.default_language), timezone.override(partner.tz):
        context = {
            "partner": partner,
            "breach": breach,
            "ticket": ticket,
            "url": partner_url(partner, "tickets:ticket-detail", ticket_id=ticket.pk),
        }
        subject = render_to_string("tickets/sla/breach_email_subject.txt", context).strip()
        body = render_to_string("tickets/sla/breach_email.txt", context)
    return EmailMessage(
        subject=" ".join(subject.splitlines()),
        body=body,
        from_email=formataddr((partner.display_name, settings.DEFAULT_FROM_EMAIL)),
        to=to,
    )


def sla_announce_breaches(*, partner: Partner, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """E-mail each marked breach once: to the assignee, or to the partner's helpdesk agents
    when the ticket is unassigned. A batch is claimed (`notice_sent_at`) and committed before
    its mail goes, so a re-run or a crash never sends a notice twice; a notice whose sending
    failed is released for the next run. Returns the number sent."""
    sent = 0
    queue: list[str] | None = None
    while True:
        with partner_scope(partner):
            ids = list(
                SlaBreach.objects.for_partner(partner)
                .filter(notice_required=True, notice_sent_at__isnull=True)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            SlaBreach.objects.for_partner(partner).filter(pk__in=ids).update(notice_sent_at=now)
            breaches = list(
                SlaBreach.objects.for_partner(partner)
                .filter(pk__in=ids)
                .select_related("ticket__assignee", "ticket__customer")
                .order_by("pk")
            )
            if queue is None and any(b.ticket.assignee_id is None for b in breaches):
                queue = _helpdesk_addresses(partner)
        failed = []
        with get_connection() as mail:
            for breach in breaches:
                assignee = breach.ticket.assignee
                to = [assignee.email] if assignee is not None else (queue or [])
                if not to:
                    continue
                try:
                    mail.send_messages([_breach_message(partner, breach, to)])
                    sent += 1
                except OSError:
                    logger.exception("SLA breach notice %s not sent", breach.pk)
                    failed.append(breach.pk)
        if failed:
            with partner_scope(partner):
                SlaBreach.objects.for_partner(partner).filter(pk__in=failed).update(
                    notice_sent_at=None
                )
            break
        if len(ids) < batch_size:
            break
    return sent


def sla_sweep(*, partner: Partner, now: datetime | None = None, batch_size: int = BATCH_SIZE):
    """One partner's minute of the watch: mark what ran out, then announce it."""
    now = now or timezone.now()
    marked = sla_mark_breaches(partner=partner, now=now, batch_size=batch_size)
    sent = sla_announce_breaches(partner=partner, now=now, batch_size=batch_size)
    return marked, sent


# -- auto-close ---------------------------------------------------------------------------


def tickets_auto_close(
    *, partner: Partner, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> int:
    """Close the partner's tickets resolved at least N days ago (its desk setting): a
    customer's reply would have reopened them, so none came. A conditional update in batches;
    a ticket reopened meanwhile is left alone. Returns how many were closed."""
    from .tasks import notify_ticket_event

    now = now or timezone.now()
    with partner_scope(partner):
        days = desk_settings(partner=partner).auto_close_after_days
    cutoff = now - timedelta(days=days)
    closed = 0
    while True:
        with partner_scope(partner):
            ids = list(
                Ticket.objects.for_partner(partner)
                .filter(status=Status.RESOLVED, resolved_at__lte=cutoff)
                .order_by("resolved_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                Ticket.objects.for_partner(partner).filter(
                    pk__in=ids, status=Status.RESOLVED
                ).update(status=Status.CLOSED, closed_at=now, updated_at=now)
                events = TicketEvent.objects.bulk_create(
                    TicketEvent(
                        partner_id=partner.pk,
                        ticket_id=pk,
                        actor=None,
                        kind=TicketEvent.Kind.AUTO_CLOSED,
                        data={
                            "old": Status.RESOLVED.value,
                            "new": Status.CLOSED.value,
                            "days": days,
                        },
                    )
                    for pk in ids
                )
                # The requester hears that the request is closed (after commit; one INSERT
                # and one broker message for the batch).
                outbox.enqueue_many(
                    (
                        notify_ticket_event,
                        {"partner_id": partner.pk, "event_id": event.pk, "audience": "customer"},
                    )
                    for event in events
                )
        closed += len(ids)
        if len(ids) < batch_size:
            break
    return closed


# -- the beat tasks' loops over partners --------------------------------------------------


def _each_partner(work, now: datetime) -> None:
    """Partners have no row-level security; each partner's work runs in its own scope."""
    for partner in Partner.objects.filter(is_active=True).order_by("pk"):
        try:
            work(partner=partner, now=now)
        except Exception:  # one partner's failure must not stop the others
            logger.exception("%s failed for partner %s", work.__name__, partner.pk)


def sla_watch_all(now: datetime | None = None) -> None:
    _each_partner(sla_sweep, now or timezone.now())


def tickets_auto_close_all(now: datetime | None = None) -> None:
    _each_partner(tickets_auto_close, now or timezone.now())


# -- the desk's settings ------------------------------------------------------------------


@transaction.atomic
def sla_settings_update(
    *, partner: Partner, targets: dict[str, tuple[int, int]], auto_close_after_days: int
) -> None:
    """Store the partner's targets (business minutes per priority) and auto-close delay. New
    targets apply to tickets opened, or changed in priority, from now on."""
    current = sla_targets(partner=partner)
    changed = []
    for priority, (first, resolution) in targets.items():
        target = current[priority]
        if (target.first_response_minutes, target.resolution_minutes) != (first, resolution):
            target.first_response_minutes, target.resolution_minutes = first, resolution
            changed.append(target)
    SlaTarget.objects.for_partner(partner).bulk_update(
        changed, ["first_response_minutes", "resolution_minutes"]
    )
    DeskSettings.objects.for_partner(partner).update_or_create(
        partner=partner, defaults={"auto_close_after_days": auto_close_after_days}
    )
