"""SLA clocks on the agent's pages, read from the due times stored on the ticket.

A list shows a clock on every row, so the clock's words and markup are built here in Python
(`clock_text`, `sla_clock`) rather than by nested template includes per row."""

import functools

from django import template
from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from csp_portal.markup import format_safe
from tickets.sla_selectors import list_clock, ticket_clocks

register = template.Library()
NO_CLOCK = mark_safe('<span class="text-muted">—</span>')  # noqa: S308 — a constant


@functools.lru_cache(maxsize=32)
def _words(language: str | None) -> dict[str, str]:
    """The clocks' words in one language, translated once per process: a list draws a clock
    on each of its rows, and each clock says three or four of them."""
    return {
        "minutes": _("%(minutes)d min"),
        "hours": _("%(hours)d h %(minutes)02d min"),
        "days": _("%(days)d d %(hours)d h"),
        "overdue": _("%(time)s overdue"),
        "left": _("%(time)s left"),
        "service_left": _("%(time)s of service hours left"),
        "paused": _("Paused"),
        "met": "✓ " + _("Met"),
        "missed": "✗ " + _("Missed"),
        "due": _("due"),
    }


def clock_words() -> dict[str, str]:
    """The clocks' words in the active language."""
    return _words(translation.get_language())


@register.filter
def sla_duration(seconds, words=None) -> str:
    """45 min · 2 h 05 min · 3 d 4 h (sign dropped: the caller says left or overdue)."""
    if seconds is None:
        return ""
    words = words or clock_words()
    minutes = abs(int(seconds)) // 60
    if minutes < 60:
        return words["minutes"] % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return words["hours"] % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return words["days"] % {"days": days, "hours": hours}


def short_datetimes():
    """A function showing a time in the viewer's time zone and language's short date and
    time, with the zone and the format looked up once: for a list's rows."""
    zone = timezone.get_current_timezone()
    fmt = get_format("SHORT_DATETIME_FORMAT")
    return lambda value: dateformat.format(timezone.localtime(value, zone), fmt)


@register.simple_tag
def clock_text(clock, words=None) -> str:
    """What a clock says: time left or overdue, paused with its reason, met or missed."""
    if clock is None:
        return "—"
    words = words or clock_words()
    if clock.state in ("running", "paused"):
        duration = sla_duration(clock.abs_seconds, words)
        if clock.overdue:
            told = words["overdue"] % {"time": duration}
        elif clock.state == "running":
            told = words["left"] % {"time": duration}
        else:
            told = words["service_left"] % {"time": duration}
        if clock.state == "paused":
            return f"{words['paused']}: {clock.reason} · {told}"
        return told
    if clock.state == "met":
        return words["met"]
    if clock.state == "missed":
        return words["missed"]
    return "—"


@register.simple_tag
def sla_clock(ticket, now=None, when=None, words=None):
    """The clock a list row shows. A list passes, once for all of its rows, its `now`, its
    `when` (a time as the viewer reads it: `short_datetimes()`) and the clocks' `words`."""
    clock = list_clock(ticket, now or timezone.now())
    if clock is None:
        return NO_CLOCK
    words = words or clock_words()
    label = str(clock.label)
    title = label
    if clock.due_at and clock.state == "running":
        due = (when or short_datetimes())(clock.due_at)
        title = f"{label} · {words['due']} {due}"
    return format_safe(
        '<span class="sla-clock sla-{}" data-sla-state="{}" title="{}">{}<br><small>{}</small>'
        "</span>",
        clock.level,
        clock.state,
        title,
        clock_text(clock, words),
        label,
    )


@register.inclusion_tag("tickets/sla/_clocks.html")
def sla_clocks(ticket):
    """Both clocks, for the ticket page."""
    return {"clocks": ticket_clocks(ticket, timezone.now())}


@register.filter
def sla_minutes(minutes) -> str:
    """A target in business minutes, as a duration."""
    return sla_duration(int(minutes) * 60)
