"""SLA clocks on the agent's pages, read from the due times stored on the ticket.

A list shows a clock on every row, so the clock's words and markup are built here in Python
(`clock_text`, `sla_clock`) rather than by nested template includes per row."""

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tickets.sla_selectors import list_clock, ticket_clocks

register = template.Library()
NO_CLOCK = mark_safe('<span class="text-muted">—</span>')  # noqa: S308 — a constant


@register.filter
def sla_duration(seconds) -> str:
    """45 min · 2 h 05 min · 3 d 4 h (sign dropped: the caller says left or overdue)."""
    if seconds is None:
        return ""
    minutes = abs(int(seconds)) // 60
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


@register.simple_tag
def clock_text(clock) -> str:
    """What a clock says: time left or overdue, paused with its reason, met or missed."""
    if clock is None:
        return "—"
    if clock.state in ("running", "paused"):
        if clock.overdue:
            told = _("%(time)s overdue") % {"time": sla_duration(clock.abs_seconds)}
        elif clock.state == "running":
            told = _("%(time)s left") % {"time": sla_duration(clock.seconds)}
        else:
            told = _("%(time)s of service hours left") % {"time": sla_duration(clock.seconds)}
        if clock.state == "paused":
            paused = _("Paused")
            return f"{paused}: {clock.reason} · {told}"
        return told
    if clock.state == "met":
        return "✓ " + _("Met")
    if clock.state == "missed":
        return "✗ " + _("Missed")
    return "—"


@register.simple_tag
def sla_clock(ticket):
    """The clock a list row shows."""
    clock = list_clock(ticket, timezone.now())
    if clock is None:
        return NO_CLOCK
    title = str(clock.label)
    if clock.due_at and clock.state == "running":
        due = date_format(timezone.localtime(clock.due_at), "SHORT_DATETIME_FORMAT")
        due_word = _("due")
        title = f"{title} · {due_word} {due}"
    return format_html(
        '<span class="sla-clock sla-{}" data-sla-state="{}" title="{}">{}<br><small>{}</small>'
        "</span>",
        clock.level,
        clock.state,
        title,
        clock_text(clock),
        clock.label,
    )


@register.inclusion_tag("tickets/sla/_clocks.html")
def sla_clocks(ticket):
    """Both clocks, for the ticket page."""
    return {"clocks": ticket_clocks(ticket, timezone.now())}


@register.filter
def sla_minutes(minutes) -> str:
    """A target in business minutes, as a duration."""
    return sla_duration(int(minutes) * 60)
