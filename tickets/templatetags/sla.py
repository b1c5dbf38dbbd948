"""SLA clocks on the agent's pages, read from the due times stored on the ticket."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.sla_selectors import list_clock, ticket_clocks

register = template.Library()


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


@register.inclusion_tag("tickets/sla/_clock.html")
def sla_clock(ticket):
    """The clock a list row shows."""
    return {"clock": list_clock(ticket, timezone.now())}


@register.inclusion_tag("tickets/sla/_clocks.html")
def sla_clocks(ticket):
    """Both clocks, for the ticket page."""
    return {"clocks": ticket_clocks(ticket, timezone.now())}


@register.filter
def sla_minutes(minutes) -> str:
    """A target in business minutes, as a duration."""
    return sla_duration(int(minutes) * 60)
