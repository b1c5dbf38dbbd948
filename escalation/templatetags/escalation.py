"""The ticket page's escalation panel, drawn by `{% escalation_panel %}` so the tickets app
needs no change to its view: the tag reads the ticket and the viewer from the context and
asks escalation.selectors for the rest."""

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from csp_portal import outbox
from csp_portal.accounts.roles import Capability

from .. import selectors
from ..forms import CaseNumberForm

register = template.Library()


@register.inclusion_tag("escalation/_panel.html", takes_context=True)
def escalation_panel(context):
    request = context["request"]
    ticket = context["ticket"]
    membership = getattr(request, "membership", None)
    if membership is None or not membership.allows(Capability.TICKETS_READ):
        return {"show": False}
    partner = request.partner
    can_escalate = membership.allows(Capability.ESCALATIONS_CREATE)
    # The form itself is on the escalation page the panel links to (it is not drawn, nor its
    # attachment list read, on every view of the ticket).
    panel = selectors.escalation_panel(
        partner=partner, ticket=ticket, can_escalate=False, for_showing=True
    )
    if (
        can_escalate
        and panel["catalog"] is None
        and any(o.eligible and o.delivery == "azure_api" for o in panel["options"])
    ):
        from ..tasks import azure_catalog_refresh

        outbox.enqueue(azure_catalog_refresh, partner_id=partner.pk)
    return {
        **panel,
        "show": True,
        "ticket": ticket,
        "can_escalate": can_escalate and ticket.is_open and panel["active"] is None,
        "case_form": CaseNumberForm(),
        "partner_center_url": settings.PARTNER_CENTER_WEB_URL,
        "prepared_text": _prepared(panel["active"]),
        "csrf_token": context.get("csrf_token"),
    }


def _prepared(escalation):
    if escalation is None or escalation.delivery != "partner_center":
        return ""
    from ..services import escalation_prepared_text

    return escalation_prepared_text(escalation)


@register.filter
def hours(duration):
    """A timedelta as hours with one decimal ("—" when there is none)."""
    if not duration:
        return "—"
    return f"{duration.total_seconds() / 3600:.1f} h"


OPTION = '\n  <li class="mb-2{}">{}<strong>{}</strong>{}<div>{}</div>{}</li>'


@register.simple_tag
def channel_options(options) -> SafeString:
    """The router's channels, in order of preference, each with its reason (and what the
    partner would need, when not eligible). Drawn in Python: the words are translated once
    per list rather than once per channel."""
    marks = {
        True: format_html(
            '<span aria-hidden="true">✓</span><span class="visually-hidden">{}:</span>',
            gettext("Eligible"),
        ),
        False: format_html(
            '<span aria-hidden="true">✗</span><span class="visually-hidden">{}:</span>',
            gettext("Not eligible"),
        ),
    }
    preferred = format_html(' <span class="badge text-bg-success">{}</span>', gettext("preferred"))
    need = gettext("Would need")
    rows = format_html_join(
        "",
        OPTION,
        (
            (
                "" if option.eligible else " text-muted",
                marks[bool(option.eligible)],
                option.label,
                preferred if option.preferred else "",
                option.reason,
                format_html("<div><em>{}:</em> {}</div>", need, option.need) if option.need else "",
            )
            for option in options
        ),
    )
    return format_html('<ol class="escalation-options list-unstyled small mb-2">{}\n</ol>', rows)
