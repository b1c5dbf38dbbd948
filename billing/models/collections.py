"""Collections: the published policy, reminders sent, suspensions, disputes (holds) and the
record of each day's sweep."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel

from .ledger import MONEY, Invoice, Subscription


class CollectionPolicy(TenantModel):
    """One published version of the partner's collection policy. Versions are never edited:
    publishing makes a new one, and the sweep follows the newest."""

    class SuspendScope(models.TextChoices):
        ALL = "all", _("All of the customer's subscriptions")
        OVERDUE_ONLY = "overdue_only", _("Only subscriptions billed on the overdue invoice")

    version = models.PositiveIntegerField(_("version"))
    reminder_steps = ArrayField(
        models.SmallIntegerField(), verbose_name=_("reminder days relative to the due date")
    )
    final_notice_day = models.SmallIntegerField(_("final notice (day relative to the due date)"))
    grace_days = models.PositiveSmallIntegerField(_("grace days after the final notice"))
    suspend_scope = models.CharField(
        _("what is suspended"), max_length=20, choices=SuspendScope.choices
    )
    minimum_overdue_amount = models.DecimalField(_("minimum overdue amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    reinstate_on_payment = models.BooleanField(_("reinstate when the overdue amount is paid"))
    notes = models.TextField(_("notes for customers"), blank=True)
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = _("collection policies")
        constraints = [
            models.UniqueConstraint(fields=["partner", "version"], name="policy_unique_version")
        ]

    def __str__(self):
        return f"v{self.version}"

    @property
    def ordinary_steps(self) -> list[int]:
        return [step for step in self.reminder_steps if step != self.final_notice_day]


class PolicyAcknowledgement(TenantModel):
    policy = models.ForeignKey(
        CollectionPolicy, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    customer = models.ForeignKey("accounts.Customer", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "policy", "customer"], name="policy_ack_once_per_customer"
            )
        ]


class ReminderSent(TenantModel):
    """A reminder step for one invoice. The row is created in the transaction that enqueues
    its e-mail, and (partner, invoice, step) is unique: a second send is impossible."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminders")
    step = models.SmallIntegerField(_("day relative to the due date"))
    is_final_notice = models.BooleanField(_("final notice"), default=False)
    policy = models.ForeignKey(CollectionPolicy, on_delete=models.PROTECT, related_name="+")
    sent_on = models.DateField(_("date (partner's time zone)"))
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.CharField(max_length=254, blank=True)
    # When the collections resume handed its e-mail to the workers again (the first hand-off's
    # broker message was lost): once at most (billing.collections.resume_lost_work).
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_on", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "invoice", "step"], name="reminder_once_per_step"
            )
        ]
        indexes = [
            # The resume's look for reminders never e-mailed: only those rows are in it.
            models.Index(
                fields=["created_at"],
                condition=models.Q(emailed_at__isnull=True, resumed_at__isnull=True),
                name="reminder_unsent_idx",
            )
        ]


class InvoiceHold(TenantModel):
    """A dispute (or other reason) that keeps the sweep away from an invoice until released."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="holds")
    reason = models.TextField(_("reason"))
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    release_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "invoice"],
                condition=models.Q(released_at__isnull=True),
                name="hold_one_open_per_invoice",
            )
        ]


class Suspension(TenantModel):
    """A subscription suspended (or to be suspended) for non-payment or by hand: who, what, why,
    when, and how the Partner Center call went."""

    class Reason(models.TextChoices):
        NON_PAYMENT = "non_payment", _("Non-payment")
        MANUAL = "manual", _("By hand")

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        REQUESTED = "requested", _("Requested")
        APPLIED = "applied", _("Suspended")
        FAILED = "failed", _("Failed")
        REINSTATING = "reinstating", _("Reinstating")
        REVERSED = "reversed", _("Reinstated")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled before it was carried out")

    OPEN_STATES = (
        State.AWAITING_APPROVAL,
        State.REQUESTED,
        State.APPLIED,
        State.FAILED,
        State.REINSTATING,
    )

    customer = models.ForeignKey("accounts.Customer", on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="suspensions"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="suspensions"
    )
    policy = models.ForeignKey(
        CollectionPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reversal_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # MS-RequestId: reused when a call is retried, so Partner Center sees one request.
    request_id = models.UUIDField(default=uuid.uuid4)
    # When the collections resume handed its Partner Center call to the workers again: once
    # per state it waits in (requested, reinstating).
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "subscription"],
                condition=models.Q(
                    state__in=[
                        "awaiting_approval",
                        "requested",
                        "applied",
                        "failed",
                        "reinstating",
                    ]
                ),
                name="suspension_one_open_per_subscription",
            )
        ]
        indexes = [models.Index(fields=["partner", "customer", "state"])]

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class SweepRun(TenantModel):
    """The collections sweep of one partner's local day."""

    run_date = models.DateField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveIntegerField(default=0)
    suspensions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-run_date"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "run_date"], name="sweep_once_per_day")
        ]
        # The hourly fan-out reads the last two days' finished runs of every partner: without
        # this it would scan a row per partner per day of history.
        indexes = [
            models.Index(
                fields=["run_date"],
                condition=models.Q(finished_at__isnull=False),
                name="sweeprun_finished_by_day",
            )
        ]


class BillingInquiry(TenantModel):
    """A customer's question about an invoice; it is a ticket of kind `billing`."""

    class Kind(models.TextChoices):
        COPY = "copy", _("Copy of the invoice")
        EXPLANATION = "explanation", _("Explanation of a charge")
        DISPUTE = "dispute", _("Dispute")
        PAYMENT_PLAN = "payment_plan", _("Payment plan")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="inquiries")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["partner", "invoice"])]
