import functools

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from csp_portal.markup import escaped, format_safe
from tickets.rendering import render_body

from .sla import clock_words, short_datetimes, sla_clock

register = template.Library()

# One row of the workspace's ticket list. A page draws 25 of them, built here as the admin
# builds its change-list cells rather than by the template engine, which resolves and
# escapes each of a row's dozen values node by node (csp_portal.markup: each value escaped).
ROW = (
    "<tr>{}<td>{}</td>"
    '<td><a class="fw-semibold" href="{}">{}</a></td>'
    "<td>{}</td>"
    '<td class="small">{}<br>{}</td>'
    '<td><span class="badge ticket-status ticket-status-{}">{}</span></td>'
    '<td><span class="priority priority-{}">{}</span></td>'
    "<td>{}</td>"
    '<td class="small">{}</td>'
    '<td class="small">{}</td></tr>'
)
SELECT_CELL = '<td><input type="checkbox" name="tickets" value="{}" aria-label="{}"></td>'
OPTION = '<option value="{}"{}>{}</option>'


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


@register.simple_tag
def ticket_rows(tickets, selectable: bool) -> SafeString:
    """The rows of the workspace's ticket list (a checkbox first when `selectable`). Each
    choice's label is translated once per list, not once per row."""
    labels = choice_labels()
    # Every row's link differs only in the ticket id: one reverse() per list.
    before, _zero, after = reverse("tickets:ticket-detail", kwargs={"ticket_id": 0}).rpartition("0")
    detail_url = f"{before}%d{after}"
    # The clock, the time zone, the date format and the clocks' words: once per list.
    shown = {"now": timezone.now(), "when": short_datetimes(), "words": clock_words()}
    return mark_safe(  # noqa: S308 - each value is escaped
        "".join(
            ROW.format(*map(escaped, _row(ticket, labels, detail_url, selectable, shown)))
            for ticket in tickets
        )
    )


def choice_labels() -> dict[str, dict[str, str]]:
    """The labels of a row's kind, product, status and priority in the active language."""
    from tickets.models import Ticket

    return {
        field: {value: str(label) for value, label in choices}
        for field, choices in (
            ("kind", Ticket.Kind.choices),
            ("product", Ticket.Product.choices),
            ("status", Ticket.Status.choices),
            ("priority", Ticket.Priority.choices),
        )
    }


def _row(ticket, labels: dict, detail_url: str, selectable: bool, shown: dict) -> tuple:
    return (
        format_safe(SELECT_CELL, ticket.pk, ticket.reference) if selectable else "",
        ticket.reference,
        detail_url % ticket.pk,
        ticket.subject,
        ticket.customer.company_name,
        labels["kind"].get(ticket.kind, ticket.kind),
        labels["product"].get(ticket.product, ticket.product),
        ticket.status,
        labels["status"].get(ticket.status, ticket.status),
        ticket.priority,
        labels["priority"].get(ticket.priority, ticket.priority),
        ticket.assignee or "—",
        sla_clock(ticket, **shown),
        shown["when"](ticket.updated_at),
    )


@register.simple_tag
def select_options(choices, selected="") -> SafeString:
    """A select's options from (value, label) pairs, the one whose value is `selected`
    marked so: one call for a list of options rather than a loop of template nodes."""
    selected = str(selected)
    return mark_safe(  # noqa: S308 - each value and label is escaped
        "".join(
            OPTION.format(
                escaped(value), " selected" if str(value) == selected else "", escaped(label)
            )
            for value, label in choices
        )
    )


@register.simple_tag
def form_fields(form) -> SafeString:
    """The form's fields, as partials/form_fields.html draws them. A blank form of a class
    that draws the same for everyone (`renders_alike`: no per-request choices or values) is
    drawn once per language in each process: the ticket page shows the blank reply and merge
    forms on every view."""
    if getattr(form, "renders_alike", False) and not (form.is_bound or form.initial):
        return _blank_form_fields(type(form), form.prefix, translation.get_language())
    return render_to_string("partials/form_fields.html", {"form": form})


@functools.lru_cache(maxsize=64)
def _blank_form_fields(form_class, prefix, language) -> SafeString:
    return render_to_string("partials/form_fields.html", {"form": form_class(prefix=prefix)})
