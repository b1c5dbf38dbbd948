"""Celery tasks of escalations: send an Azure support ticket, sync every open escalation
(Azure tickets, Partner Center service requests, the provider's linked tickets), refresh the
Azure problem-classification catalog, alert the assignee. Tasks take JSON ids and re-fetch
inside `partner_scope(partner_id)`; Microsoft is called outside any database transaction."""

from __future__ import annotations

import hashlib
import logging
from email.utils import formataddr

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from csp_portal import outbox
from csp_portal.accounts.models import Partner
from csp_portal.accounts.tenancy import partner_scope
from csp_portal.accounts.urls_util import partner_url
from tickets.models import Ticket

from . import selectors, services
from .microsoft import MicrosoftClient, MicrosoftError
from .models import Delivery, Escalation

logger = logging.getLogger(__name__)


def _client(partner) -> MicrosoftClient:
    return MicrosoftClient(partner=partner)


def _load(partner_id, escalation_id) -> Escalation | None:
    return (
        Escalation.objects.for_partner(partner_id)
        .select_related("ticket", "customer", "partner", "provider", "created_by")
        .filter(pk=escalation_id)
        .first()
    )


def _properties(escalation: Escalation) -> dict:
    """The create body, in the shape of support-ticket.create-technical.json."""
    first, _space, last = (escalation.contact_name or escalation.contact_email).partition(" ")
    properties = {
        "serviceId": escalation.service_id,
        "title": escalation.title,
        "description": escalation.description,
        "problemClassificationId": escalation.problem_classification_id,
        "severity": escalation.severity,
        "contactDetails": {
            "firstName": first,
            "lastName": last or first,
            "primaryEmailAddress": escalation.contact_email,
            "preferredContactMethod": "email",
            "preferredTimeZone": "UTC",
            "preferredSupportLanguage": "en-US",
            "country": escalation.customer.country.lower(),
        },
    }
    if escalation.azure_resource_id:
        properties["technicalTicketDetails"] = {"resourceId": escalation.azure_resource_id}
    return properties


@shared_task(acks_late=True)
def escalation_azure_create(*, partner_id: int, escalation_id: int) -> None:
    """Create the Azure support ticket of a queued escalation, once: claimed by a conditional
    update; the ticket's name and MS-RequestId are fixed on the escalation, and an existing
    ticket of that name is adopted rather than created again."""
    with partner_scope(partner_id):
        if not services.escalation_claim_for_send(
            partner_id=partner_id, escalation_id=escalation_id
        ):
            return
        escalation = _load(partner_id, escalation_id)
        partner = escalation.partner
    client = _client(partner)
    tenant = str(escalation.customer.microsoft_tenant_id)
    try:
        ticket = client.azure_ticket_get(
            subscription_id=escalation.azure_subscription_id,
            name=escalation.support_ticket_name,
            customer_tenant_id=tenant,
            request_id=escalation.request_id,
        )
        if ticket is None:
            classifications = client.azure_problem_classifications(
                service_id=escalation.service_id,
                customer_tenant_id=tenant,
                request_id=escalation.request_id,
            )
            if escalation.problem_classification_id not in {c.get("id") for c in classifications}:
                raise MicrosoftError(
                    400,
                    "InvalidProblemClassificationId",
                    _(
                        "The problem classification no longer exists at Microsoft: escalate again with another one."
                    ),
                )
            ticket = client.azure_ticket_create(
                subscription_id=escalation.azure_subscription_id,
                name=escalation.support_ticket_name,
                properties=_properties(escalation),
                customer_tenant_id=tenant,
                request_id=escalation.request_id,
            )
    except MicrosoftError as error:
        with partner_scope(partner_id):
            escalation = _load(partner_id, escalation_id)
            services.escalation_send_failed(
                escalation=escalation, error=error, transient=error.is_transient
            )
        return
    with partner_scope(partner_id):
        escalation = _load(partner_id, escalation_id)
        services.escalation_submitted(escalation=escalation, support_ticket=ticket)


@shared_task
def escalation_sync_fan_out() -> None:
    """Beat: one sync task per escalation that is open at the other side, and a resend of
    Azure escalations whose next attempt is due. Partners are read without a scope (no
    row-level security on partners), then each is scoped in turn."""
    now = timezone.now()
    for partner_id in Partner.objects.filter(is_active=True).values_list("pk", flat=True):
        with partner_scope(partner_id):
            escalations = Escalation.objects.for_partner(partner_id)
            to_sync = list(
                escalations.filter(
                    status__in=[Escalation.Status.OPEN, Escalation.Status.ATTENTION_NEEDED]
                ).values_list("pk", flat=True)
            )
            to_send = list(
                escalations.filter(
                    status=Escalation.Status.QUEUED, next_attempt_at__lte=now
                ).values_list("pk", flat=True)
            )
        for escalation_id in to_sync:
            escalation_sync.delay(partner_id=partner_id, escalation_id=escalation_id)
        for escalation_id in to_send:
            escalation_azure_create.delay(partner_id=partner_id, escalation_id=escalation_id)


@shared_task(acks_late=True)
def escalation_sync(*, partner_id: int, escalation_id: int) -> None:
    with partner_scope(partner_id):
        escalation = _load(partner_id, escalation_id)
        if escalation is None or escalation.status not in (
            Escalation.Status.OPEN,
            Escalation.Status.ATTENTION_NEEDED,
        ):
            return
        if escalation.delivery == Delivery.PROVIDER:
            services.provider_sync(escalation=escalation)
            return
        outgoing = services.escalation_outgoing(escalation)
    try:
        if escalation.delivery == Delivery.AZURE_API:
            _sync_azure(escalation, outgoing)
        elif escalation.case_number:
            _sync_partner_center(escalation, outgoing)
    except MicrosoftError as error:
        logger.warning("escalation %s: sync failed: %s", escalation_id, error)
        with partner_scope(partner_id):
            Escalation.objects.for_partner(partner_id).filter(pk=escalation_id).update(
                last_error=str(error)
            )


def _sync_azure(escalation: Escalation, outgoing) -> None:
    client = _client(escalation.partner)
    tenant = str(escalation.customer.microsoft_tenant_id)
    common = {
        "subscription_id": escalation.azure_subscription_id,
        "name": escalation.support_ticket_name,
        "customer_tenant_id": tenant,
    }
    sent = []
    for message in outgoing:
        name = f"portal-{message.pk}"
        client.azure_communication_create(
            **common,
            communication_name=name,
            subject=escalation.title[:100],
            body=message.body,
            sender=escalation.contact_email,
            request_id=services.new_request_id(),
        )
        sent.append((message, name))
    ticket = client.azure_ticket_get(**common, request_id=services.new_request_id())
    communications = client.azure_communications(**common, request_id=services.new_request_id())
    ours = {name for _m, name in sent}
    with partner_scope(escalation.partner_id):
        escalation = _load(escalation.partner_id, escalation.pk)
        for message, name in sent:
            services.escalation_sent(escalation=escalation, message=message, key=name)
        for item in communications:
            props = item.get("properties") or {}
            name = item.get("name", "")
            if name in ours or name.startswith("portal-"):
                continue
            services.escalation_receive(
                escalation=escalation,
                key=name,
                text=f"{props.get('subject', '')}\n\n{props.get('body', '')}".strip(),
            )
        status = ((ticket or {}).get("properties") or {}).get("status", "")
        alert = services.escalation_microsoft_status(escalation=escalation, status=status)
        _finish_sync(escalation, alert)


def _note_key(text: str) -> str:
    return "note:" + hashlib.sha256(text.strip().encode()).hexdigest()[:40]


def _sync_partner_center(escalation: Escalation, outgoing) -> None:
    client = _client(escalation.partner)
    sent = []
    for message in outgoing:
        client.service_request_add_note(
            case_number=escalation.case_number,
            text=message.body,
            author=str(message.author or ""),
            request_id=services.new_request_id(),
        )
        sent.append((message, _note_key(message.body)))
    request = client.service_request_get(
        case_number=escalation.case_number, request_id=services.new_request_id()
    )
    with partner_scope(escalation.partner_id):
        escalation = _load(escalation.partner_id, escalation.pk)
        for message, key in sent:
            services.escalation_sent(escalation=escalation, message=message, key=key)
        for note in request.get("notes") or request.get("Notes") or []:
            text = note.get("text") or note.get("Text") or ""
            if text:
                services.escalation_receive(escalation=escalation, key=_note_key(text), text=text)
        status = request.get("status") or request.get("Status") or ""
        alert = services.escalation_microsoft_status(escalation=escalation, status=str(status))
        _finish_sync(escalation, alert)


def _finish_sync(escalation: Escalation, alert: bool) -> None:
    Escalation.objects.for_partner(escalation.partner_id).filter(pk=escalation.pk).update(
        last_synced_at=timezone.now(), last_error=""
    )
    if alert:
        outbox.enqueue(
            escalation_alert_assignee,
            partner_id=escalation.partner_id,
            escalation_id=escalation.pk,
        )


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def escalation_alert_assignee(*, partner_id: int, escalation_id: int) -> None:
    """Microsoft needs the partner's attention: e-mail the ticket's assignee (or the desk)."""
    with partner_scope(partner_id):
        escalation = _load(partner_id, escalation_id)
        if escalation is None:
            return
        partner = escalation.partner
        ticket = (
            Ticket.objects.for_partner(partner)
            .select_related("assignee")
            .get(pk=escalation.ticket_id)
        )
        to = [ticket.assignee.email] if ticket.assignee_id else [partner.support_email]
        to = [address for address in to if address]
        if not to:
            return
        with translation.override(partner.default_language):
            subject = _("[%(ref)s] Microsoft needs your attention on case %(case)s") % {
                "ref": ticket.reference,
                "case": escalation.external_reference,
            }
            body = _(
                "Microsoft set case %(case)s to “attention needed”. Open the ticket: %(url)s"
            ) % {
                "case": escalation.external_reference,
                "url": partner_url(partner, "tickets:ticket-detail", ticket_id=ticket.pk),
            }
        EmailMessage(
            subject=subject,
            body=body,
            from_email=formataddr((partner.display_name, settings.DEFAULT_FROM_EMAIL)),
            to=to,
        ).send()


@shared_task
def azure_catalog_refresh(*, partner_id: int) -> None:
    """Cache Microsoft's services and problem classifications for the escalation form."""
    partner = Partner.objects.get(pk=partner_id)
    client = _client(partner)
    catalog = []
    try:
        for service in client.azure_services(
            customer_tenant_id=None, request_id=services.new_request_id()
        ):
            service_name = (service.get("properties") or {}).get("displayName", service.get("name"))
            for item in client.azure_problem_classifications(
                service_id=service["id"],
                customer_tenant_id=None,
                request_id=services.new_request_id(),
            ):
                catalog.append(
                    {
                        "service_id": service["id"],
                        "service": service_name,
                        "id": item["id"],
                        "name": (item.get("properties") or {}).get("displayName", item.get("name")),
                    }
                )
    except MicrosoftError as error:
        logger.warning("partner %s: problem classifications not loaded: %s", partner_id, error)
        return
    cache.set(selectors.azure_catalog_key(partner_id), catalog, 6 * 3600)
