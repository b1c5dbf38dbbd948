"""Changes of escalations and entitlements. Each service is atomic and writes the
escalation's history; Microsoft is called only from Celery tasks (escalation.tasks), after
commit, never inside a request.

What reaches the ticket: its status (through tickets.services.ticket_change, so the SLA clock
sees the pause reason), and Microsoft's or the provider's messages as internal notes written
by "System" (tickets.services has no author-less note; see `_system_note`)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal import outbox
from csp_portal.accounts import partner_cache
from csp_portal.accounts.models import Customer, Partner
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.webhooks.services import webhook_emit
from tickets import services as ticket_services
from tickets.models import Ticket, TicketAttachment, TicketEvent, TicketMessage

from . import selectors
from .models import (
    Channel,
    Delivery,
    Escalation,
    EscalationEvent,
    ExchangedMessage,
    ProviderLink,
    Severity,
    SupportBenefit,
)

Status = Escalation.Status
CASE_NUMBER = re.compile(r"^\d{6,20}$")
AZURE_SUBSCRIPTION = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
BENEFIT_OF_CHANNEL = {
    Channel.PARTNER_CLOUD_SUPPORT: SupportBenefit.Kind.PARTNER_CLOUD_SUPPORT,
    Channel.PARTNER_ONPREMISES_SUPPORT: SupportBenefit.Kind.PARTNER_ONPREMISES_SUPPORT,
}
# The ticket's priority mapped to Microsoft's severity (the agent may change it).
SEVERITY_OF_PRIORITY = {
    Ticket.Priority.URGENT: Severity.CRITICAL,
    Ticket.Priority.HIGH: Severity.MODERATE,
    Ticket.Priority.NORMAL: Severity.MINIMAL,
    Ticket.Priority.LOW: Severity.MINIMAL,
}


def severity_for(ticket: Ticket) -> str:
    return SEVERITY_OF_PRIORITY.get(ticket.priority, Severity.MODERATE)


def escalation_event(escalation: Escalation, kind: str, actor=None, detail: str = ""):
    """Record what happened to an escalation, and tell the partner's webhooks."""
    event = EscalationEvent.objects.create(
        partner_id=escalation.partner_id,
        escalation=escalation,
        actor=actor,
        kind=kind,
        detail=detail[:4000],
    )
    webhook_emit(
        partner=escalation.partner_id,
        event="escalation.updated",
        payload={
            "id": escalation.pk,
            "ticket_id": escalation.ticket_id,
            "channel": escalation.channel,
            "status": escalation.status,
            "event": kind,
        },
    )
    return event


def _system_note(ticket: Ticket, body: str) -> TicketMessage:
    """An internal note by "System" on `ticket`: what Microsoft or the provider said or did.
    tickets.services.ticket_reply insists on a staff author for notes, so the note and its
    timeline line are written here, in the same shape (internal notes never reach customers)."""
    message = TicketMessage.objects.create(
        partner_id=ticket.partner_id,
        ticket=ticket,
        author=None,
        body=body,
        body_format=TicketMessage.Format.PLAIN,
        is_public=False,
        is_from_customer=False,
    )
    TicketEvent.objects.create(
        partner_id=ticket.partner_id,
        ticket=ticket,
        actor=None,
        kind=TicketEvent.Kind.NOTE_ADDED,
        data={"message_id": message.pk},
    )
    ticket_services.ticket_search_vector_refresh(ticket=ticket)
    return message


def _set_ticket_status(ticket: Ticket, status: str, actor=None) -> None:
    """Move the ticket through tickets.services, leaving it alone where the transition does
    not apply (already there, closed, merged)."""
    ticket = Ticket.objects.for_partner(ticket.partner_id).get(pk=ticket.pk)
    if ticket.status == status or ticket.merged_into_id:
        return
    if ticket.status == Ticket.Status.CLOSED and status != Ticket.Status.OPEN:
        return
    if status not in ticket_services.TRANSITIONS[ticket.status]:
        return
    ticket_services.ticket_change(ticket=ticket, acting_user=actor, status=status)


# -- entitlements ----------------------------------------------------------------------------


@transaction.atomic
def entitlements_update(*, partner, formsets) -> None:
    """Save the staff page's contract and benefit formsets (validated by the caller)."""
    for formset in formsets:
        for form in formset.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if formset.can_delete and formset._should_delete_form(form):
                if form.instance.pk:
                    form.instance.delete()
                continue
            instance = form.save(commit=False)
            instance.partner = partner
            instance.save()


def _take_incident(*, partner, kind: str) -> SupportBenefit:
    """Use one incident of the benefit: a conditional UPDATE, so two agents cannot both take
    the last one."""
    benefits = SupportBenefit.objects.for_partner(partner).filter(kind=kind, is_active=True)
    taken = benefits.filter(
        Q(incident_allowance__isnull=True) | Q(incidents_used__lt=F("incident_allowance"))
    ).update(incidents_used=F("incidents_used") + 1)
    if not taken:
        raise ValidationError(
            _("No incidents are left on %(benefit)s: nothing was sent.")
            % {"benefit": SupportBenefit.Kind(kind).label}
        )
    partner_cache.forget_list(getattr(partner, "pk", partner), "entitlements")
    return benefits.get()


def _return_incident(escalation: Escalation) -> None:
    if escalation.benefit_id:
        SupportBenefit.objects.for_partner(escalation.partner_id).filter(
            pk=escalation.benefit_id, incidents_used__gt=0
        ).update(incidents_used=F("incidents_used") - 1)
        partner_cache.forget_list(escalation.partner_id, "entitlements")


# -- escalating -------------------------------------------------------------------------------


@transaction.atomic
def escalation_create(
    *,
    ticket: Ticket,
    acting_user,
    channel: str,
    severity: str,
    title: str,
    description: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    attachment_ids=(),
    subscription_ref: str = "",
    azure_subscription_id: str = "",
    azure_resource_id: str = "",
    problem_classification_id: str = "",
    today=None,
) -> Escalation:
    """Escalate `ticket` through `channel`, which the router must find eligible today.

    Azure: queued for the create task (after commit). Partner Center: prepared for the agent
    to file, waiting for Microsoft's case number. Provider: a linked ticket is opened in the
    provider's desk at once. The ticket waits on Microsoft or on the provider."""
    partner = Partner.objects.select_related("provider").get(pk=ticket.partner_id)
    ticket = (
        Ticket.objects.for_partner(partner)
        .select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=ticket.pk)
    )
    if not ticket.is_open or ticket.merged_into_id:
        raise ValidationError(_("This ticket is closed or resolved: reopen it before escalating."))
    if (
        Escalation.objects.for_partner(partner)
        .filter(ticket=ticket, status__in=Escalation.ACTIVE_STATUSES)
        .exists()
    ):
        raise ValidationError(_("This ticket is already escalated."))
    options = selectors.escalation_options(partner=partner, ticket=ticket, today=today)
    option = next((o for o in options if o.channel == channel), None)
    if option is None:
        raise ValidationError(_("Choose a support channel."))
    if not option.eligible:
        raise ValidationError(
            _("%(channel)s is not available: %(reason)s %(need)s")
            % {"channel": option.label, "reason": option.reason, "need": option.need}
        )
    if severity not in Severity.values:
        raise ValidationError(_("Choose a severity."))
    delivery = option.delivery
    if severity == Severity.HIGHEST and delivery != Delivery.AZURE_API:
        raise ValidationError(_("Highest critical impact is for Azure support tickets only."))
    title, description = title.strip(), description.strip()
    if not title or not description:
        raise ValidationError(_("An escalation needs a title and a description."))
    ids = sorted({int(i) for i in attachment_ids})
    known = set(
        TicketAttachment.objects.for_partner(partner)
        .filter(ticket=ticket, pk__in=ids)
        .values_list("pk", flat=True)
    )
    if len(known) != len(ids):
        raise ValidationError(_("Choose attachments of this ticket only."))
    if delivery == Delivery.AZURE_API:
        _check_azure_fields(
            partner=partner,
            ticket=ticket,
            azure_subscription_id=azure_subscription_id,
            problem_classification_id=problem_classification_id,
        )
    benefit = None
    if channel in BENEFIT_OF_CHANNEL:
        benefit = _take_incident(partner=partner, kind=BENEFIT_OF_CHANNEL[channel])
    initial = {
        Delivery.AZURE_API: Status.QUEUED,
        Delivery.PARTNER_CENTER: Status.PREPARED,
        Delivery.PROVIDER: Status.OPEN,
    }[delivery]
    service_id = problem_classification_id.split("/problemClassifications/")[0]
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                partner=partner,
                ticket=ticket,
                customer=ticket.customer,
                channel=channel,
                delivery=delivery,
                status=initial,
                severity=severity,
                title=title[:200],
                description=description,
                product=ticket.product,
                contact_name=contact_name.strip()[:150],
                contact_email=contact_email.strip(),
                contact_phone=contact_phone.strip()[:40],
                contract_id=option.contract_id,
                access_id=option.access_id,
                benefit=benefit,
                attachment_ids=ids,
                subscription_ref=subscription_ref.strip()[:100],
                azure_subscription_id=azure_subscription_id.strip().lower(),
                azure_resource_id=azure_resource_id.strip(),
                service_id=service_id if problem_classification_id else "",
                problem_classification_id=problem_classification_id,
                created_by=acting_user,
            )
    except IntegrityError as error:
        raise ValidationError(_("This ticket is already escalated.")) from error
    escalation_event(escalation, EscalationEvent.Kind.CREATED, acting_user, option.reason)
    if delivery == Delivery.PROVIDER:
        _provider_handoff(escalation=escalation, partner=partner, ticket=ticket)
        waiting = Ticket.Status.WAITING_ON_PROVIDER
    else:
        waiting = Ticket.Status.WAITING_ON_MICROSOFT
    ticket_services.ticket_change(ticket=ticket, acting_user=acting_user, status=waiting)
    escalation.ticket_status_seen = waiting
    escalation.save(update_fields=["ticket_status_seen"])
    if delivery == Delivery.AZURE_API:
        from .tasks import escalation_azure_create

        outbox.enqueue(escalation_azure_create, partner_id=partner.pk, escalation_id=escalation.pk)
    return escalation


def _check_azure_fields(*, partner, ticket, azure_subscription_id, problem_classification_id):
    if not ticket.customer.microsoft_tenant_id:
        raise ValidationError(
            _("The customer has no Microsoft tenant ID: record it on the customer first.")
        )
    if not AZURE_SUBSCRIPTION.match(azure_subscription_id.strip()):
        raise ValidationError(_("Enter the customer's Azure subscription ID (a GUID)."))
    if "/problemClassifications/" not in problem_classification_id:
        raise ValidationError(_("Choose a problem classification."))
    catalog = selectors.azure_catalog(partner=partner)
    if catalog is not None and problem_classification_id not in {c["id"] for c in catalog}:
        raise ValidationError(
            _("That problem classification no longer exists at Microsoft: choose another.")
        )


def escalation_prepared_text(escalation: Escalation) -> str:
    """What the agent pastes into Partner Center's support request form."""
    lines = [
        f"{_('Title')}: {escalation.title}",
        f"{_('Severity')}: {escalation.severity}",
        f"{_('Product')}: {Ticket.Product(escalation.product).label}",
        f"{_('Support channel')}: {Channel(escalation.channel).label}",
    ]
    if escalation.contract_id:
        lines.append(f"{_('Contract ID')}: {escalation.contract_id}")
    if escalation.access_id:
        lines.append(f"{_('Access ID')}: {escalation.access_id}")
    contact = escalation.contact_name
    if escalation.contact_email:
        contact += f" <{escalation.contact_email}>"
    if escalation.contact_phone:
        contact += f", {escalation.contact_phone}"
    lines.append(f"{_('Contact')}: {contact}")
    customer = escalation.customer
    tenant = f" ({customer.microsoft_tenant_id})" if customer.microsoft_tenant_id else ""
    lines.append(f"{_('Customer')}: {customer.company_name}{tenant}")
    if escalation.subscription_ref:
        lines.append(f"{_('Subscription')}: {escalation.subscription_ref}")
    lines.append(f"{_('Our reference')}: {escalation.ticket.reference}")
    lines += ["", f"{_('Description')}:", escalation.description]
    return "\n".join(lines) + "\n"


@transaction.atomic
def escalation_record_case_number(*, escalation: Escalation, case_number: str, acting_user):
    """The agent filed the prepared request in Partner Center and records Microsoft's case
    number (a numeric string); tracking starts."""
    case_number = re.sub(r"\s+", "", case_number or "")
    if not CASE_NUMBER.match(case_number):
        raise ValidationError(
            _("A Microsoft case number is a number of 6 to 20 digits, e.g. 616122292874576.")
        )
    escalation = (
        Escalation.objects.for_partner(escalation.partner_id)
        .select_for_update()
        .get(pk=escalation.pk)
    )
    if escalation.delivery != Delivery.PARTNER_CENTER or escalation.status not in {
        Status.PREPARED,
        Status.OPEN,
        Status.ATTENTION_NEEDED,
    }:
        raise ValidationError(_("This escalation does not take a case number."))
    taken = (
        Escalation.objects.for_partner(escalation.partner_id)
        .filter(case_number=case_number)
        .exclude(pk=escalation.pk)
        .exists()
    )
    if taken:
        raise ValidationError(_("That case number is recorded on another escalation."))
    escalation.case_number = case_number
    if escalation.status == Status.PREPARED:
        escalation.status = Status.OPEN
        escalation.submitted_at = timezone.now()
    escalation.save()
    escalation_event(escalation, EscalationEvent.Kind.CASE_RECORDED, acting_user, case_number)
    from .tasks import escalation_sync

    outbox.enqueue(escalation_sync, partner_id=escalation.partner_id, escalation_id=escalation.pk)
    return escalation


# -- the provider hand-off --------------------------------------------------------------------


def _provider_handoff(*, escalation: Escalation, partner: Partner, ticket: Ticket) -> None:
    """Open a linked ticket in the provider's own desk (its tenant), carrying only what the
    provider needs: the customer company, the subscription, the issue and the chosen
    attachments."""
    provider = partner.provider
    files = []
    for attachment in TicketAttachment.objects.for_partner(partner).filter(
        pk__in=escalation.attachment_ids
    ):
        with attachment.file.open("rb") as handle:
            files.append(ContentFile(handle.read(), name=attachment.original_name))
    customer = ticket.customer
    lines = [
        _("Escalated by %(reseller)s (your indirect reseller%(mpn)s), their ticket %(ref)s.")
        % {
            "reseller": partner.display_name,
            "mpn": f", MPN {partner.mpn_id}" if partner.mpn_id else "",
            "ref": ticket.reference,
        },
        f"{_('Customer')}: {customer.company_name}"
        + (f" ({customer.microsoft_tenant_id})" if customer.microsoft_tenant_id else ""),
    ]
    if escalation.subscription_ref:
        lines.append(f"{_('Subscription')}: {escalation.subscription_ref}")
    lines.append(f"{_('Severity')}: {escalation.severity}")
    lines += ["", escalation.description]
    with partner_scope(provider):
        provider_customer = _provider_customer(
            provider=provider, reseller=partner, customer=customer
        )
        linked = ticket_services.ticket_create(
            partner=provider,
            customer=provider_customer,
            requester=None,
            kind=ticket.kind,
            product=ticket.product,
            subject=f"[{partner.display_name}] {escalation.title}"[:200],
            body="\n".join(lines),
            priority=ticket.priority,
            channel=Ticket.Channel.PORTAL,
            attachments=files,
            acting_user=None,
        )
        first = TicketMessage.objects.for_partner(provider).filter(ticket=linked).first()
        ExchangedMessage.objects.create(
            partner=provider,
            ticket=linked,
            message=first,
            direction=ExchangedMessage.Direction.IN,
            external_key=f"handoff:{partner.pk}:{escalation.pk}",
        )
        ProviderLink.objects.create(
            partner=provider,
            ticket=linked,
            reseller=partner,
            reseller_escalation_id=escalation.pk,
            reseller_ticket_reference=ticket.reference,
        )
    escalation.provider = provider
    escalation.provider_ticket_id = linked.pk
    escalation.provider_ticket_reference = linked.reference
    escalation.provider_status_seen = linked.status
    escalation.submitted_at = timezone.now()
    escalation.save()
    escalation_event(
        escalation,
        EscalationEvent.Kind.SUBMITTED,
        detail=_("Ticket %(ref)s opened at %(provider)s.")
        % {"ref": linked.reference, "provider": provider.display_name},
    )


def _provider_customer(*, provider, reseller, customer) -> Customer:
    """The provider's record of the reseller's customer (the same Microsoft tenant), made
    when the provider does not have it yet."""
    customers = Customer.objects.for_partner(provider)
    found = None
    if customer.microsoft_tenant_id:
        found = customers.filter(microsoft_tenant_id=customer.microsoft_tenant_id).first()
    else:
        found = customers.filter(
            company_name=customer.company_name, reseller_mpn_id=reseller.mpn_id
        ).first()
    if found is not None:
        return found
    return Customer.objects.create(
        partner=provider,
        company_name=customer.company_name,
        primary_domain=customer.primary_domain,
        microsoft_tenant_id=customer.microsoft_tenant_id,
        country=customer.country,
        language=customer.language,
        reseller_mpn_id=reseller.mpn_id,
    )


# -- outcomes of the tasks (each in the partner's scope, called by escalation.tasks) -----------


def escalation_claim_for_send(*, partner_id, escalation_id) -> bool:
    """Claim a queued Azure escalation for sending: a conditional UPDATE, so a duplicate
    delivery of the task (or two workers) sends it once. A claim older than ten minutes is
    taken over (its worker died); the ticket name makes the retry adopt what it created."""
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ) | Q(status=Status.SUBMITTING, claimed_at__lt=now - timedelta(minutes=10))
    return bool(
        Escalation.objects.for_partner(partner_id)
        .filter(claimable, pk=escalation_id, delivery=Delivery.AZURE_API)
        .update(status=Status.SUBMITTING, claimed_at=now, submit_attempts=F("submit_attempts") + 1)
    )


def escalation_submitted(*, escalation: Escalation, support_ticket: dict) -> None:
    properties = support_ticket.get("properties") or {}
    escalation.status = Status.OPEN
    escalation.support_ticket_id = str(properties.get("supportTicketId", ""))
    escalation.microsoft_status = str(properties.get("status", "Open"))
    escalation.submitted_at = timezone.now()
    escalation.last_error = ""
    escalation.next_attempt_at = None
    escalation.save()
    escalation_event(
        escalation,
        EscalationEvent.Kind.SUBMITTED,
        detail=_("Azure support ticket %(id)s") % {"id": escalation.support_ticket_id},
    )
    _system_note(
        escalation.ticket,
        _("Azure support ticket %(id)s was created at Microsoft (%(severity)s).")
        % {"id": escalation.support_ticket_id, "severity": escalation.severity},
    )


def escalation_send_failed(*, escalation: Escalation, error, transient: bool) -> None:
    """Microsoft did not take it. Transient (429, 5xx, timeout): queued again for a later send,
    until ESCALATION_MAX_SENDS; otherwise failed: the incident is given back, the ticket is
    open again, and the error stays on the escalation for the agent."""
    message = str(error)
    escalation.last_error = message
    if transient and escalation.submit_attempts < settings.ESCALATION_MAX_SENDS:
        escalation.status = Status.QUEUED
        escalation.next_attempt_at = timezone.now() + timedelta(
            minutes=settings.ESCALATION_RESEND_MINUTES
        )
        escalation.save()
        escalation_event(escalation, EscalationEvent.Kind.ERROR, detail=message)
        return
    escalation.status = Status.FAILED
    escalation.closed_at = None
    escalation.save()
    _return_incident(escalation)
    escalation_event(escalation, EscalationEvent.Kind.FAILED, detail=message)
    _system_note(
        escalation.ticket,
        _("The escalation to Microsoft failed and nothing was created: %(error)s")
        % {"error": message},
    )
    _set_ticket_status(escalation.ticket, Ticket.Status.OPEN)


def escalation_microsoft_status(*, escalation: Escalation, status: str) -> bool:
    """Record the status at Microsoft (Azure `Open`/`Closed`, Partner Center `open`,
    `attention_needed`, `closed`). Returns whether the assignee must be alerted."""
    status = (status or "").strip()
    if not status or status == escalation.microsoft_status:
        return False
    old = escalation.microsoft_status
    escalation.microsoft_status = status
    normal = status.lower()
    alert = False
    if normal == "closed":
        escalation.status = Status.CLOSED
        escalation.closed_at = timezone.now()
    elif normal == "attention_needed":
        escalation.status = Status.ATTENTION_NEEDED
        alert = True
    elif normal == "open":
        escalation.status = Status.OPEN
    escalation.save()
    escalation_event(escalation, EscalationEvent.Kind.STATUS, detail=f"{old or '—'} → {status}")
    reference = escalation.external_reference
    _system_note(
        escalation.ticket,
        _("Microsoft case %(ref)s: status %(status)s.") % {"ref": reference, "status": status},
    )
    if normal in {"closed", "attention_needed"}:
        # Microsoft closed the case or waits on the partner: the agent acts next.
        _set_ticket_status(escalation.ticket, Ticket.Status.OPEN)
    return alert


def escalation_receive(*, escalation: Escalation, key: str, text: str) -> bool:
    """A message from Microsoft, once: an internal note on the ticket."""
    if (
        ExchangedMessage.objects.for_partner(escalation.partner_id)
        .filter(ticket_id=escalation.ticket_id, external_key=key[:200])
        .exists()
    ):
        return False
    note = _system_note(
        escalation.ticket,
        _("Microsoft (case %(ref)s) wrote:") % {"ref": escalation.external_reference}
        + "\n\n"
        + text,
    )
    ExchangedMessage.objects.create(
        partner_id=escalation.partner_id,
        escalation=escalation,
        ticket_id=escalation.ticket_id,
        message=note,
        direction=ExchangedMessage.Direction.IN,
        external_key=key[:200],
    )
    escalation_event(escalation, EscalationEvent.Kind.MESSAGE_IN, detail=text[:500])
    return True


def escalation_outgoing(escalation: Escalation) -> list[TicketMessage]:
    """The agents' public replies on the ticket since it was escalated, not yet sent."""
    sent = ExchangedMessage.objects.for_partner(escalation.partner_id).filter(
        ticket_id=escalation.ticket_id
    )
    return list(
        TicketMessage.objects.for_partner(escalation.partner_id)
        .filter(
            ticket_id=escalation.ticket_id,
            is_public=True,
            is_from_customer=False,
            author__isnull=False,
            created_at__gt=escalation.created_at,
        )
        .exclude(pk__in=sent.filter(message__isnull=False).values("message_id"))
        .select_related("author")
        .order_by("pk")
    )


def escalation_sent(*, escalation: Escalation, message: TicketMessage, key: str) -> None:
    ExchangedMessage.objects.for_partner(escalation.partner_id).get_or_create(
        partner_id=escalation.partner_id,
        ticket_id=escalation.ticket_id,
        direction=ExchangedMessage.Direction.OUT,
        external_key=key[:200],
        defaults={"escalation": escalation, "message": message},
    )
    escalation_event(escalation, EscalationEvent.Kind.MESSAGE_OUT, detail=message.body[:500])


def new_request_id() -> uuid.UUID:
    return uuid.uuid4()


# -- mirroring the provider's linked ticket ---------------------------------------------------

_DONE = {Ticket.Status.RESOLVED, Ticket.Status.CLOSED}


def _unsent_public_messages(*, partner_id, ticket_id, since) -> list[TicketMessage]:
    """Public messages of a ticket since the hand-off that did not come from the other side
    and did not go there yet."""
    exchanged = ExchangedMessage.objects.for_partner(partner_id).filter(ticket_id=ticket_id)
    return list(
        TicketMessage.objects.for_partner(partner_id)
        .filter(ticket_id=ticket_id, is_public=True, created_at__gt=since)
        .exclude(pk__in=exchanged.filter(message__isnull=False).values("message_id"))
        .select_related("author")
        .order_by("pk")
    )


def _mark_sent(*, partner_id, ticket_id, message, key, escalation_id=None):
    ExchangedMessage.objects.for_partner(partner_id).get_or_create(
        partner_id=partner_id,
        ticket_id=ticket_id,
        direction=ExchangedMessage.Direction.OUT,
        external_key=key,
        defaults={"message": message, "escalation_id": escalation_id},
    )


@transaction.atomic
def provider_sync(*, escalation: Escalation) -> None:
    """Mirror the reseller's ticket and the provider's linked ticket both ways: public
    replies (never internal notes) and status changes. Runs in the reseller's scope; the
    provider's side in `partner_scope(provider)`."""
    reseller_id, provider = escalation.partner_id, escalation.provider
    reseller = Partner.objects.get(pk=reseller_id)
    ticket = Ticket.objects.for_partner(reseller_id).get(pk=escalation.ticket_id)
    outgoing = _unsent_public_messages(
        partner_id=reseller_id, ticket_id=ticket.pk, since=escalation.created_at
    )
    with partner_scope(provider):
        linked = Ticket.objects.for_partner(provider).get(pk=escalation.provider_ticket_id)
        incoming = _unsent_public_messages(
            partner_id=provider.pk, ticket_id=linked.pk, since=escalation.created_at
        )
        for message in outgoing:
            key = f"{reseller_id}:{message.pk}"
            if linked.status == Ticket.Status.CLOSED:
                ticket_services.ticket_reopen(ticket=linked, acting_user=None)
            copy = ticket_services.ticket_reply(
                ticket=linked,
                author=None,
                body=f"{message.author or reseller.display_name} ({reseller.display_name}):\n\n"
                + message.body,
                public=True,
            )
            ExchangedMessage.objects.create(
                partner=provider,
                ticket=linked,
                message=copy,
                direction=ExchangedMessage.Direction.IN,
                external_key=key,
            )
            linked.refresh_from_db()
        for message in incoming:
            _mark_sent(
                partner_id=provider.pk,
                ticket_id=linked.pk,
                message=message,
                key=f"{provider.pk}:{message.pk}",
            )
        provider_status = linked.status
    for message in outgoing:
        _mark_sent(
            partner_id=reseller_id,
            ticket_id=ticket.pk,
            message=message,
            key=f"{reseller_id}:{message.pk}",
            escalation_id=escalation.pk,
        )
        escalation_event(escalation, EscalationEvent.Kind.MESSAGE_OUT, detail=message.body[:500])
    for message in incoming:
        copy = _system_note(
            ticket,
            _("%(provider)s (ticket %(ref)s) replied:")
            % {"provider": provider.display_name, "ref": escalation.provider_ticket_reference}
            + "\n\n"
            + message.body,
        )
        ExchangedMessage.objects.create(
            partner_id=reseller_id,
            escalation=escalation,
            ticket=ticket,
            message=copy,
            direction=ExchangedMessage.Direction.IN,
            external_key=f"{provider.pk}:{message.pk}",
        )
        escalation_event(escalation, EscalationEvent.Kind.MESSAGE_IN, detail=message.body[:500])
    _mirror_statuses(escalation=escalation, ticket=ticket, provider_status=provider_status)
    escalation.last_synced_at = timezone.now()
    escalation.save()


def _mirror_statuses(*, escalation: Escalation, ticket: Ticket, provider_status: str) -> None:
    provider = escalation.provider
    ticket.refresh_from_db()
    reseller_status = ticket.status
    provider_changed = provider_status != escalation.provider_status_seen
    reseller_changed = reseller_status != escalation.ticket_status_seen
    if provider_changed:
        escalation_event(
            escalation,
            EscalationEvent.Kind.STATUS,
            detail=f"{provider.display_name}: {escalation.provider_status_seen or '—'} → {provider_status}",
        )
        if provider_status in _DONE:
            _set_ticket_status(ticket, Ticket.Status.RESOLVED)
        elif provider_status == Ticket.Status.WAITING_ON_CUSTOMER:
            # The provider waits on the reseller: the reseller's agent acts next.
            _set_ticket_status(ticket, Ticket.Status.OPEN)
        elif reseller_status not in _DONE:
            _set_ticket_status(ticket, Ticket.Status.WAITING_ON_PROVIDER)
    elif reseller_changed:
        with partner_scope(provider):
            linked = Ticket.objects.for_partner(provider).get(pk=escalation.provider_ticket_id)
            if reseller_status in _DONE and linked.status not in _DONE:
                _set_ticket_status(linked, reseller_status)
            elif reseller_status not in _DONE and linked.status in _DONE:
                _set_ticket_status(linked, Ticket.Status.OPEN)
            provider_status = Ticket.objects.for_partner(provider).get(pk=linked.pk).status
    ticket.refresh_from_db()
    escalation.provider_status_seen = provider_status
    escalation.ticket_status_seen = ticket.status
    if provider_status in _DONE and ticket.status in _DONE:
        if escalation.status != Status.CLOSED:
            escalation.status = Status.CLOSED
            escalation.closed_at = timezone.now()
            escalation_event(escalation, EscalationEvent.Kind.CLOSED)
    elif escalation.status == Status.CLOSED:
        escalation.status = Status.OPEN
        escalation.closed_at = None
