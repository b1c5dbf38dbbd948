"""Reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""  # part of the actor's e-mail address or name
    target_type: str = ""
    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_event_list(*, partner, filters: AuditFilters = AuditFilters()):
    """The partner's events, newest first, with their actors (one query per page)."""
    events = AuditEvent.objects.for_partner(partner).select_related("actor")
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.actor:
        from django.db.models import Q

        events = events.filter(
            Q(actor__email__icontains=filters.actor) | Q(actor__full_name__icontains=filters.actor)
        )
    if filters.since:
        events = events.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        events = events.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    return events


def audit_actions(*, partner) -> list[str]:
    return list(
        AuditEvent.objects.for_partner(partner)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def audit_target_types(*, partner) -> list[str]:
    return list(
        AuditEvent.objects.for_partner(partner)
        .exclude(target_type="")
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()
    )
