"""Reads of SLA state: the workspace's SLA views, the clocks a ticket shows, and the report.
The clocks are read from the due times stored on the ticket: no query and no calendar per row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import SlaBreach, SlaPause, Ticket
from .sla import business_seconds_between
from .sla_services import PAUSED, RUNNING, partner_calendar, sla_targets

Status = Ticket.Status
Clock = SlaBreach.Clock
SOON = timedelta(hours=1)


# -- the workspace's views ----------------------------------------------------------------


def _first_response_running() -> Q:
    return Q(first_response_at__isnull=True, status__in=Ticket.OPEN_STATUSES)


def breaching_soon(now: datetime | None = None) -> Q:
    """Tickets whose running clock runs out within the hour (not yet overdue)."""
    now = now or timezone.now()
    return (
        _first_response_running()
        & Q(first_response_due_at__gt=now, first_response_due_at__lte=now + SOON)
    ) | Q(status__in=RUNNING, resolution_due_at__gt=now, resolution_due_at__lte=now + SOON)


def breached(now: datetime | None = None) -> Q:
    """Tickets with a running clock that is already overdue."""
    now = now or timezone.now()
    return (_first_response_running() & Q(first_response_due_at__lte=now)) | Q(
        status__in=RUNNING, resolution_due_at__lte=now
    )


# -- a ticket's clocks, for the list and the ticket page ----------------------------------


@dataclass(frozen=True)
class ClockState:
    """What a clock shows. `state`: running, paused, met, missed or stopped; `level` (ok,
    caution, warning, danger, muted) colours it; `seconds` is the wall-clock time to the due
    time while running (negative once overdue) and the service-hours time left while paused."""

    clock: str
    label: str
    state: str
    level: str
    due_at: datetime | None = None
    seconds: int | None = None
    reason: str = ""

    @property
    def overdue(self) -> bool:
        return self.seconds is not None and self.seconds < 0

    @property
    def abs_seconds(self) -> int | None:
        return None if self.seconds is None else abs(self.seconds)


def _level(seconds: int) -> str:
    if seconds < 0:
        return "danger"
    if seconds <= SOON.total_seconds():
        return "warning"
    if seconds <= 4 * 3600:
        return "caution"
    return "ok"


def first_response_clock(ticket: Ticket, now: datetime) -> ClockState | None:
    due = ticket.first_response_due_at
    if due is None:
        return None
    label = _("First response")
    if ticket.first_response_at is not None:
        met = ticket.first_response_at <= due
        return ClockState(
            Clock.FIRST_RESPONSE, label, "met" if met else "missed", "ok" if met else "danger", due
        )
    if ticket.status not in Ticket.OPEN_STATUSES:
        return ClockState(Clock.FIRST_RESPONSE, label, "stopped", "muted", due)
    seconds = int((due - now).total_seconds())
    return ClockState(Clock.FIRST_RESPONSE, label, "running", _level(seconds), due, seconds)


def resolution_clock(ticket: Ticket, now: datetime) -> ClockState | None:
    due, left = ticket.resolution_due_at, ticket.resolution_seconds_left
    if due is None and left is None:
        return None
    label = _("Resolution")
    if ticket.status in PAUSED and left is not None:
        return ClockState(
            Clock.RESOLUTION,
            label,
            "paused",
            "danger" if left < 0 else "muted",
            None,
            left,
            reason=ticket.get_status_display(),
        )
    if ticket.status not in RUNNING:
        met = left is None or left >= 0
        return ClockState(
            Clock.RESOLUTION, label, "met" if met else "missed", "ok" if met else "danger", due
        )
    seconds = int((due - now).total_seconds())
    return ClockState(Clock.RESOLUTION, label, "running", _level(seconds), due, seconds)


def ticket_clocks(ticket: Ticket, now: datetime | None = None) -> list[ClockState]:
    now = now or timezone.now()
    return [c for c in (first_response_clock(ticket, now), resolution_clock(ticket, now)) if c]


def list_clock(ticket: Ticket, now: datetime | None = None) -> ClockState | None:
    """The one clock a list row shows: the first response while it runs, else resolution."""
    now = now or timezone.now()
    first = first_response_clock(ticket, now)
    if first is not None and first.state == "running":
        return first
    return resolution_clock(ticket, now)


# -- the report ---------------------------------------------------------------------------


PRIORITY_ORDER = [
    Ticket.Priority.URGENT,
    Ticket.Priority.HIGH,
    Ticket.Priority.NORMAL,
    Ticket.Priority.LOW,
]


def sla_report(*, partner, now: datetime | None = None, days: int = 30) -> dict:
    """Over the tickets opened in the last `days`: per priority, how many met or missed each
    clock (a clock still running and not yet overdue is neither); and over the pauses begun in
    that time, the time spent per reason (wall-clock and service hours)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    breaches = SlaBreach.objects.for_partner(partner).filter(ticket=OuterRef("pk"))
    per_priority = {
        row["priority"]: row
        for row in Ticket.objects.for_partner(partner)
        .filter(created_at__gte=since, merged_into__isnull=True)
        .annotate(
            first_missed=Exists(breaches.filter(clock=Clock.FIRST_RESPONSE)),
            resolution_missed=Exists(breaches.filter(clock=Clock.RESOLUTION)),
        )
        .values("priority")
        .annotate(
            total=Count("pk"),
            first_response_met=Count(
                "pk", filter=Q(first_response_at__isnull=False, first_missed=False)
            ),
            first_response_missed=Count("pk", filter=Q(first_missed=True)),
            resolution_met=Count(
                "pk", filter=Q(resolved_at__isnull=False, resolution_missed=False)
            ),
            resolution_missed=Count("pk", filter=Q(resolution_missed=True)),
        )
        .order_by()
    }
    targets = sla_targets(partner=partner)
    empty = {
        "total": 0,
        "first_response_met": 0,
        "first_response_missed": 0,
        "resolution_met": 0,
        "resolution_missed": 0,
    }
    priorities = [
        {
            **empty,
            **per_priority.get(priority, {}),
            "priority": priority,
            "label": Ticket.Priority(priority).label,
            "target": targets.get(priority),
        }
        for priority in PRIORITY_ORDER
    ]

    pauses = SlaPause.objects.for_partner(partner).filter(started_at__gte=since)
    per_reason = {
        row["reason"]: row
        for row in pauses.values("reason")
        .annotate(
            count=Count("pk"),
            business=Coalesce(Sum("business_seconds"), 0),
            wall=Sum(
                ExpressionWrapper(
                    Coalesce(F("ended_at"), Value(now)) - F("started_at"),
                    output_field=DurationField(),
                )
            ),
        )
        .order_by()
    }
    still_open = list(pauses.filter(ended_at__isnull=True).values_list("reason", "started_at"))
    if still_open:
        calendar = partner_calendar(partner=partner)
        for reason, started_at in still_open:
            per_reason[reason]["business"] += max(
                0, business_seconds_between(started_at, now, calendar)
            )
    reasons = [
        {
            "reason": reason,
            "label": label,
            "count": per_reason.get(reason, {}).get("count", 0),
            "business_seconds": per_reason.get(reason, {}).get("business", 0),
            "wall_seconds": int(
                (per_reason.get(reason, {}).get("wall") or timedelta()).total_seconds()
            ),
        }
        for reason, label in SlaPause.Reason.choices
    ]
    return {"since": since, "days": days, "priorities": priorities, "reasons": reasons}


@dataclass(frozen=True)
class ResponseTarget:
    priority: str
    label: str
    first_response_minutes: int
    resolution_minutes: int


def response_targets(*, partner) -> list[ResponseTarget]:
    """What a customer can expect, per priority, in business minutes (the partner's targets,
    or the defaults it has not changed). Read-only: one query, nothing stored."""
    from .sla_models import SlaTarget
    from .sla_services import DEFAULT_TARGETS

    stored = {t.priority: t for t in SlaTarget.objects.for_partner(partner)}
    targets = []
    for priority, label in Ticket.Priority.choices[::-1]:
        target = stored.get(priority)
        first, resolution = (
            (target.first_response_minutes, target.resolution_minutes)
            if target
            else DEFAULT_TARGETS[priority]
        )
        targets.append(ResponseTarget(priority, str(label), first, resolution))
    return targets
