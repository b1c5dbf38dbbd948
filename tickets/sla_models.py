"""SLA rows: targets per priority, the desk's settings, the pauses of the resolution clock and
the breaches the watch found. Imported by tickets.models (one app, one migration history);
changed only by tickets.sla_services."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel

PRIORITY_CHOICES = [
    ("low", _("Low")),
    ("normal", _("Normal")),
    ("high", _("High")),
    ("urgent", _("Urgent")),
]


class SlaTarget(TenantModel):
    """How soon, in business minutes, a ticket of a priority gets its first public answer and
    its resolution."""

    priority = models.CharField(_("priority"), max_length=10, choices=PRIORITY_CHOICES)
    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["partner", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "priority"], name="sla_target_per_priority")
        ]

    def __str__(self):
        return f"{self.priority}: {self.first_response_minutes}/{self.resolution_minutes} min"


class DeskSettings(TenantModel):
    """The partner's helpdesk settings that are not SLA targets. One row per partner, made
    when a global admin first saves them; until then the defaults apply."""

    DEFAULT_AUTO_CLOSE_DAYS = 7

    auto_close_after_days = models.PositiveSmallIntegerField(
        _("close resolved tickets after (days without a customer reply)"),
        default=DEFAULT_AUTO_CLOSE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )

    class Meta:
        verbose_name_plural = _("desk settings")
        constraints = [
            models.UniqueConstraint(fields=["partner"], name="desk_settings_one_per_partner")
        ]


class SlaPause(TenantModel):
    """An interval in which the resolution clock stood still, and why."""

    class Reason(models.TextChoices):
        WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
        WAITING_ON_MICROSOFT = "waiting_on_microsoft", _("Waiting on Microsoft")
        WAITING_ON_PROVIDER = "waiting_on_provider", _("Waiting on provider")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Service-hours seconds the pause took off the clock, recorded when it ends.
    business_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "ticket"],
                condition=models.Q(ended_at__isnull=True),
                name="sla_pause_one_open_per_ticket",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="sla_pause_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "ticket", "started_at"], name="sla_pause_ticket_idx"),
            models.Index(fields=["partner", "started_at"], name="sla_pause_started_idx"),
        ]


class SlaBreach(TenantModel):
    """One clock of one ticket ran out. The unique key (ticket, clock) makes marking a breach
    idempotent; `notice_sent_at` is claimed before the e-mail goes, so no breach is announced
    twice."""

    class Clock(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    clock = models.CharField(max_length=20, choices=Clock.choices)
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    # A breach found only when the clock stopped (the answer came late) is not announced.
    notice_required = models.BooleanField(default=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["detected_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "ticket", "clock"], name="sla_breach_once_per_clock"
            )
        ]
        indexes = [
            models.Index(
                fields=["partner", "id"],
                condition=models.Q(notice_required=True, notice_sent_at__isnull=True),
                name="sla_breach_unnoticed_idx",
            )
        ]
