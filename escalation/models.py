"""Escalation to Microsoft or to the indirect provider: the partner's support entitlements,
the escalations themselves and what was exchanged through them. Every row belongs to one
partner; changes go through escalation.services, reads through escalation.selectors."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel


class SupportContract(TenantModel):
    """A paid support contract the partner holds with Microsoft."""

    class Kind(models.TextChoices):
        PREMIER_UNIFIED = "premier_unified", _("Premier Support for Partners / Unified")
        ADVANCED_SUPPORT = "advanced_support", _("Advanced Support for Partners")

    kind = models.CharField(_("contract"), max_length=20, choices=Kind.choices)
    contract_id = models.CharField(_("contract ID"), max_length=64)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))

    class Meta:
        ordering = ["partner", "kind", "-valid_to"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind", "contract_id"], name="support_contract_unique_id"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__gte=models.F("valid_from")),
                name="support_contract_valid_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.contract_id}"


class SupportBenefit(TenantModel):
    """A partner-program support benefit, activated by a global admin in Partner Center
    (which yields its access ID and contract ID)."""

    class Kind(models.TextChoices):
        PARTNER_CLOUD_SUPPORT = (
            "partner_cloud_support",
            _("Partner Cloud Support (formerly Signature Cloud Support)"),
        )
        PARTNER_ONPREMISES_SUPPORT = (
            "partner_onpremises_support",
            _("Partner On-premises Support (formerly product support incidents)"),
        )

    kind = models.CharField(_("benefit"), max_length=32, choices=Kind.choices)
    access_id = models.CharField(_("access ID"), max_length=64)
    contract_id = models.CharField(_("contract ID"), max_length=64)
    incident_allowance = models.PositiveIntegerField(
        _("incident allowance"),
        null=True,
        blank=True,
        help_text=_("Leave empty for unlimited incidents."),
    )
    incidents_used = models.PositiveIntegerField(
        _("incidents used"), default=0, validators=[MinValueValidator(0)]
    )
    renewal_date = models.DateField(_("renewal date"))
    is_active = models.BooleanField(_("activated"), default=True)

    class Meta:
        ordering = ["partner", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind"], name="support_benefit_one_per_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(incident_allowance__isnull=True)
                | models.Q(incidents_used__lte=models.F("incident_allowance")),
                name="support_benefit_within_allowance",
            ),
        ]

    def __str__(self):
        return self.get_kind_display()

    @property
    def incidents_left(self) -> int | None:
        if self.incident_allowance is None:
            return None
        return max(self.incident_allowance - self.incidents_used, 0)


class Channel(models.TextChoices):
    """Where an escalation goes (the router chooses among these)."""

    INDIRECT_PROVIDER = "indirect_provider", _("Indirect provider")
    COMMERCIAL = "commercial", _("Commercial support (billing, subscription, account)")
    PREMIER_UNIFIED = "premier_unified", _("Premier Support for Partners / Unified")
    ADVANCED_SUPPORT = "advanced_support", _("Advanced Support for Partners")
    PARTNER_CLOUD_SUPPORT = "partner_cloud_support", _("Partner Cloud Support")
    PARTNER_ONPREMISES_SUPPORT = "partner_onpremises_support", _("Partner On-premises Support")


class Delivery(models.TextChoices):
    """How an escalation reaches the other side."""

    AZURE_API = "azure_api", _("Azure support ticket (Azure Support API)")
    PARTNER_CENTER = "partner_center", _("Filed in Partner Center, tracked by case number")
    PROVIDER = "provider", _("Linked ticket in the provider's desk")


class Severity(models.TextChoices):
    """Microsoft's severities (Partner Center service requests and Azure support tickets)."""

    MINIMAL = "minimal", _("Minimal (C)")
    MODERATE = "moderate", _("Moderate (B)")
    CRITICAL = "critical", _("Critical (A)")
    HIGHEST = "highestcriticalimpact", _("Highest critical impact (A, 24x7)")


def _support_ticket_name() -> str:
    return f"csp-{uuid.uuid4().hex}"


class Escalation(TenantModel):
    """One escalation of a ticket. At most one is active per ticket; for Microsoft calls
    `request_id` (MS-RequestId) and `support_ticket_name` are fixed when the row is made,
    so every retry and every duplicate delivery of a task names the same ticket."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Prepared: waiting for Microsoft's case number")
        QUEUED = "queued", _("Being sent to Microsoft")
        SUBMITTING = "submitting", _("Being sent to Microsoft")
        OPEN = "open", _("Open")
        ATTENTION_NEEDED = "attention_needed", _("Attention needed")
        CLOSED = "closed", _("Closed")
        FAILED = "failed", _("Failed: nothing was created")

    ACTIVE_STATUSES = (
        Status.PREPARED,
        Status.QUEUED,
        Status.SUBMITTING,
        Status.OPEN,
        Status.ATTENTION_NEEDED,
    )

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("accounts.Customer", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    severity = models.CharField(_("severity"), max_length=24, choices=Severity.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    product = models.CharField(_("product"), max_length=20)
    contact_name = models.CharField(_("contact name"), max_length=150)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    # The entitlement it draws on, copied when it was made.
    contract_id = models.CharField(_("contract ID"), max_length=64, blank=True)
    access_id = models.CharField(_("access ID"), max_length=64, blank=True)
    benefit = models.ForeignKey(
        SupportBenefit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attachment_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    subscription_ref = models.CharField(_("subscription"), max_length=100, blank=True)
    # Azure support ticket (on behalf of the CSP customer).
    azure_subscription_id = models.CharField(_("Azure subscription ID"), max_length=64, blank=True)
    azure_resource_id = models.CharField(_("resource ID"), max_length=500, blank=True)
    service_id = models.CharField(_("service"), max_length=300, blank=True)
    problem_classification_id = models.CharField(
        _("problem classification"), max_length=400, blank=True
    )
    support_ticket_name = models.CharField(max_length=64, default=_support_ticket_name)
    support_ticket_id = models.CharField(_("Azure support ticket ID"), max_length=32, blank=True)
    request_id = models.UUIDField(default=uuid.uuid4)
    # Partner Center service request: Microsoft's case number, recorded by the agent.
    case_number = models.CharField(_("Microsoft case number"), max_length=20, blank=True)
    microsoft_status = models.CharField(_("status at Microsoft"), max_length=32, blank=True)
    # The provider's linked ticket (a row of the provider's tenant).
    provider = models.ForeignKey(
        "accounts.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider_ticket_id = models.BigIntegerField(null=True, blank=True)
    provider_ticket_reference = models.CharField(max_length=20, blank=True)
    provider_status_seen = models.CharField(max_length=24, blank=True)
    ticket_status_seen = models.CharField(max_length=24, blank=True)
    # Sending and syncing.
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "ticket"],
                condition=models.Q(
                    status__in=["prepared", "queued", "submitting", "open", "attention_needed"]
                ),
                name="escalation_one_active_per_ticket",
            ),
            models.UniqueConstraint(
                fields=["partner", "support_ticket_name"], name="escalation_unique_ticket_name"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "ticket", "-created_at"], name="escalation_ticket_idx"),
            models.Index(fields=["partner", "status"], name="escalation_status_idx"),
            models.Index(fields=["partner", "customer", "channel"], name="escalation_customer_idx"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def external_reference(self) -> str:
        return self.support_ticket_id or self.case_number or self.provider_ticket_reference


class EscalationEvent(TenantModel):
    """One line of an escalation's history (shown in the ticket's escalation panel)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("escalated")
        SUBMITTED = "submitted", _("created the ticket at Microsoft")
        CASE_RECORDED = "case_recorded", _("recorded Microsoft's case number")
        STATUS = "status", _("status at the other side changed")
        MESSAGE_IN = "message_in", _("received a message")
        MESSAGE_OUT = "message_out", _("sent a message")
        ERROR = "error", _("could not reach Microsoft")
        FAILED = "failed", _("failed")
        CLOSED = "closed", _("closed")

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["partner", "escalation", "created_at"], name="escalation_event_idx"
            )
        ]


class ExchangedMessage(TenantModel):
    """A message that crossed to or from the other side, so it crosses only once.

    `external_key` names it at the other side: an Azure communication's name, a hash of a
    Partner Center note, or `<partner id>:<message id>` of a mirrored provider message.
    `message` is this tenant's ticket message (the one sent, or the copy received)."""

    class Direction(models.TextChoices):
        IN = "in", _("received")
        OUT = "out", _("sent")

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, null=True, blank=True, related_name="exchanged"
    )
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        "tickets.TicketMessage", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    external_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "ticket", "direction", "external_key"],
                name="exchanged_message_once",
            )
        ]
        indexes = [models.Index(fields=["partner", "ticket"], name="exchanged_ticket_idx")]


class ProviderLink(TenantModel):
    """In the provider's tenant: its ticket that a reseller handed off (the reseller's own
    escalation row lives in the reseller's tenant)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    reseller = models.ForeignKey("accounts.Partner", on_delete=models.PROTECT, related_name="+")
    reseller_escalation_id = models.BigIntegerField()
    reseller_ticket_reference = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "ticket"], name="provider_link_one_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["partner", "reseller", "reseller_escalation_id"],
                name="provider_link_one_per_escalation",
            ),
        ]
