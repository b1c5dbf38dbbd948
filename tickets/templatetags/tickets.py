from django import template

from tickets.rendering import render_body

register = template.Library()


@register.filter
def message_html(message):
    """A message's body as sanitised HTML."""
    return render_body(message.body, message.body_format)


@register.simple_tag
def event_change(event) -> str:
    """What a timeline event changed, in words: "Open → Resolved", "High → Urgent", the new
    assignee's name, the tags before and after. Empty for events that change no value."""
    from tickets.models import Ticket, TicketEvent

    kind, data = event.kind, event.data or {}
    if kind == TicketEvent.Kind.ASSIGNED:
        return f"→ {data.get('name') or '—'}"
    if kind == TicketEvent.Kind.TAGS_CHANGED:
        old, new = (", ".join(data.get(key) or []) or "—" for key in ("old", "new"))
        return f"{old} → {new}"
    if kind == TicketEvent.Kind.PRIORITY_CHANGED:
        labels = dict(Ticket.Priority.choices)
    elif kind in (
        TicketEvent.Kind.STATUS_CHANGED,
        TicketEvent.Kind.REOPENED,
        TicketEvent.Kind.CLOSED,
        TicketEvent.Kind.AUTO_CLOSED,
    ):
        labels = dict(Ticket.Status.choices)
        if kind == TicketEvent.Kind.CLOSED:
            data = {"new": Ticket.Status.CLOSED, **data}
    else:
        return ""
    if not data.get("new"):
        return ""
    old, new = (str(labels.get(data.get(key), data.get(key) or "—")) for key in ("old", "new"))
    return f"{old} → {new}"
