"""Reads of escalations and entitlements. Each owns its joins; the ticket page's panel costs
a fixed number of queries whatever the number of escalations or events."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.cache import cache
from django.db import models
from django.db.models import Avg, Count, F, Q, Value
from django.utils import timezone

from csp_portal.compiled import CompiledRead
from tickets.models import Ticket, TicketAttachment

from . import routing
from .models import (
    Channel,
    Escalation,
    EscalationEvent,
    ProviderLink,
    SupportBenefit,
    SupportContract,
)


def entitlements_for(*, partner) -> routing.Entitlements:
    """The partner's contracts and benefits, read in one statement (a UNION of both tables
    in common columns; the ticket page asks on every view)."""
    text, day, number = models.CharField(), models.DateField(), models.IntegerField()
    flag = models.BooleanField()

    def none(field):
        return Value(None, output_field=field)

    contracts = (
        SupportContract.objects.for_partner(partner)
        .order_by()
        .annotate(
            source=Value("contract", output_field=text),
            code=F("contract_id"),
            other=none(text),
            day_1=F("valid_from"),
            day_2=F("valid_to"),
            allowance=none(number),
            used=none(number),
            active=none(flag),
        )
        .values_list(
            "source", "kind", "code", "other", "day_1", "day_2", "allowance", "used", "active"
        )
    )
    benefits = (
        SupportBenefit.objects.for_partner(partner)
        .order_by()
        .annotate(
            source=Value("benefit", output_field=text),
            code=F("access_id"),
            other=F("contract_id"),
            day_1=F("renewal_date"),
            day_2=none(day),
            allowance=F("incident_allowance"),
            used=F("incidents_used"),
            active=F("is_active"),
        )
        .values_list(
            "source", "kind", "code", "other", "day_1", "day_2", "allowance", "used", "active"
        )
    )
    rows = list(contracts.union(benefits, all=True).order_by("source", "kind", "-day_2", "code"))
    return routing.Entitlements(
        contracts=[
            routing.Contract(kind, code, valid_from, valid_to)
            for source, kind, code, _o, valid_from, valid_to, *_rest in rows
            if source == "contract"
        ],
        benefits=[
            routing.Benefit(kind, code, contract_id, allowance, used, renewal, active)
            for source, kind, code, contract_id, renewal, _d, allowance, used, active in rows
            if source == "benefit"
        ],
    )


def ticket_facts(*, partner, ticket: Ticket) -> routing.TicketFacts:
    provider = partner.provider if partner.provider_id else None
    return routing.TicketFacts(
        kind=ticket.kind,
        product=ticket.product,
        partner_kind=partner.kind,
        cloud=partner.cloud,
        provider_name=provider.display_name if provider else "",
    )


def partner_today(partner) -> date:
    return timezone.localdate(timezone=partner.tz)


def shown_entitlements(*, partner) -> routing.Entitlements:
    """`entitlements_for` from the cache, for showing (the ticket page's panel); forgotten
    when a contract or benefit is saved or deleted, or an incident taken or given back
    (escalation.apps, escalation.services). Escalating reads them afresh."""
    from csp_portal.accounts import partner_cache

    (entitlements,) = partner_cache.remembered(
        partner.pk, "entitlements", lambda: [entitlements_for(partner=partner)]
    )
    return entitlements


def escalation_options(
    *, partner, ticket: Ticket, today: date | None = None, for_showing: bool = False
):
    return routing.route(
        ticket_facts(partner=partner, ticket=ticket),
        (shown_entitlements if for_showing else entitlements_for)(partner=partner),
        today or partner_today(partner),
    )


def azure_catalog_key(partner_id) -> str:
    return f"escalation:azure-catalog:{partner_id}"


def azure_catalog(*, partner) -> list[dict] | None:
    """Microsoft's services and problem classifications as cached by the refresh task:
    [{"service_id", "service", "id", "name"}], or None when not loaded yet."""
    return cache.get(azure_catalog_key(partner.pk))


def _ticket_escalations(*, partner, ticket):
    return (
        Escalation.objects.for_partner(partner)
        .filter(ticket_id=ticket)
        .select_related("created_by", "customer")
        .order_by("-created_at", "-pk")
    )


def _ticket_escalation_events(*, partner, ticket):
    return (
        EscalationEvent.objects.for_partner(partner)
        .filter(escalation__ticket_id=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


# Every view of a ticket reads its escalations: compiled once per process.
_TICKET_ESCALATIONS = CompiledRead(_ticket_escalations, partner=-1, ticket=-2)
_TICKET_ESCALATION_EVENTS = CompiledRead(_ticket_escalation_events, partner=-1, ticket=-2)


def escalations_for_ticket(*, partner, ticket: Ticket) -> list[Escalation]:
    """A ticket's escalations, newest first, each with its events, oldest first, as
    `timeline` (their events are read only when there are escalations)."""
    escalations = _TICKET_ESCALATIONS.objects(partner=partner, ticket=ticket)
    if escalations:
        events: dict[int, list[EscalationEvent]] = {}
        for event in _TICKET_ESCALATION_EVENTS.objects(partner=partner, ticket=ticket):
            events.setdefault(event.escalation_id, []).append(event)
        for escalation in escalations:
            escalation.timeline = events.get(escalation.pk, [])
            escalation.ticket = ticket  # the caller's own ticket: not read again with each one
    return escalations


def ticket_attachments(*, partner, ticket: Ticket) -> list[TicketAttachment]:
    """The ticket's attachments, internal notes' included: from the conversation the ticket
    page already loaded when it has (with internal notes), else in one query."""
    if getattr(ticket, "conversation_includes_internal", False):
        return sorted(
            (a for message in ticket.conversation for a in message.files), key=lambda a: a.pk
        )
    return list(TicketAttachment.objects.for_partner(partner).filter(ticket=ticket).order_by("pk"))


def escalation_panel(
    *, partner, ticket: Ticket, can_escalate: bool = True, for_showing: bool = False
) -> dict:
    """Everything the ticket page's escalation panel shows (the attachments to send along
    only to those who may escalate). `for_showing`: the entitlements may come from the
    cache (the ticket page; the escalation page and escalating read them afresh)."""
    options = escalation_options(partner=partner, ticket=ticket, for_showing=for_showing)
    escalations = escalations_for_ticket(partner=partner, ticket=ticket)
    active = next((e for e in escalations if e.is_active), None)
    return {
        "options": options,
        "no_channel": routing.no_channel_message(options),
        "preferred": next((o for o in options if o.preferred), None),
        "active": active,
        "history": [e for e in escalations if e is not active],
        "attachments": ticket_attachments(partner=partner, ticket=ticket) if can_escalate else [],
        # Only an indirect provider receives tickets handed off by its resellers.
        "handed_off_by": ProviderLink.objects.for_partner(partner)
        .filter(ticket=ticket)
        .select_related("reseller")
        .first()
        if partner.kind == partner.Kind.INDIRECT_PROVIDER
        else None,
        "catalog": azure_catalog(partner=partner),
    }


def entitlements_page(*, partner) -> dict:
    return {
        "contracts": SupportContract.objects.for_partner(partner).order_by("kind", "-valid_to"),
        "benefits": SupportBenefit.objects.for_partner(partner).order_by("kind"),
    }


# -- reporting ------------------------------------------------------------------------------


def escalation_report(*, partner, since: date | None = None) -> dict:
    """Per partner and per customer: escalations by channel and outcome, time to resolution,
    incidents used and left, the case rate (escalations per ticket) and CSAT."""
    since = since or (partner_today(partner) - timedelta(days=365))
    escalations = Escalation.objects.for_partner(partner).filter(created_at__date__gte=since)
    tickets = Ticket.objects.for_partner(partner).filter(created_at__date__gte=since)
    resolution = F("closed_at") - F("created_at")
    by_channel = list(
        escalations.values("channel")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status__in=Escalation.ACTIVE_STATUSES)),
            closed=Count("pk", filter=Q(status=Escalation.Status.CLOSED)),
            failed=Count("pk", filter=Q(status=Escalation.Status.FAILED)),
            time_to_resolution=Avg(resolution, filter=Q(closed_at__isnull=False)),
        )
        .order_by("channel")
    )
    labels = dict(Channel.choices)
    for row in by_channel:
        row["label"] = labels.get(row["channel"], row["channel"])
    ticket_totals = tickets.aggregate(
        total=Count("pk"),
        csat=Avg("csat_score"),
        rated=Count("pk", filter=Q(csat_score__isnull=False)),
    )
    escalation_totals = escalations.aggregate(
        total=Count("pk"),
        tickets=Count("ticket", distinct=True),
        time_to_resolution=Avg(resolution, filter=Q(closed_at__isnull=False)),
    )
    escalated_csat = tickets.filter(
        pk__in=escalations.values("ticket_id"), csat_score__isnull=False
    ).aggregate(csat=Avg("csat_score"))["csat"]
    per_customer = list(
        tickets.values("customer_id", "customer__company_name")
        .annotate(
            tickets=Count("pk", distinct=True),
            csat=Avg("csat_score"),
        )
        .order_by("customer__company_name")
    )
    escalated = {
        row["customer_id"]: row
        for row in escalations.values("customer_id").annotate(
            escalations=Count("pk"),
            closed=Count("pk", filter=Q(status=Escalation.Status.CLOSED)),
            time_to_resolution=Avg(resolution, filter=Q(closed_at__isnull=False)),
        )
    }
    for row in per_customer:
        extra = escalated.get(row["customer_id"], {})
        row["escalations"] = extra.get("escalations", 0)
        row["closed"] = extra.get("closed", 0)
        row["time_to_resolution"] = extra.get("time_to_resolution")
        row["case_rate"] = row["escalations"] / row["tickets"] if row["tickets"] else 0
    return {
        "since": since,
        "by_channel": by_channel,
        "per_customer": per_customer,
        "tickets": ticket_totals["total"],
        "escalations": escalation_totals["total"],
        "case_rate": (escalation_totals["tickets"] / ticket_totals["total"])
        if ticket_totals["total"]
        else 0,
        "time_to_resolution": escalation_totals["time_to_resolution"],
        "csat": ticket_totals["csat"],
        "escalated_csat": escalated_csat,
        "rated": ticket_totals["rated"],
        "benefits": SupportBenefit.objects.for_partner(partner).order_by("kind"),
    }
