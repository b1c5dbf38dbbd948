"""Money: subscriptions, invoices and their lines, payments and how they were allocated."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class BillingProfile(TenantModel):
    """The partner's billing settings: mark-up on Microsoft prices, payment terms and whether
    suspensions need a second person's approval (four-eyes)."""

    markup_percent = models.DecimalField(
        _("mark-up on Partner Center prices (%)"), max_digits=6, decimal_places=2, default=0
    )
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    four_eyes_suspensions = models.BooleanField(
        _("suspensions need a second person's approval"), default=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner"], name="billing_profile_one_per_partner")
        ]


class Subscription(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    class ProductFamily(models.TextChoices):
        AZURE = "azure", _("Azure")
        DYNAMICS_365 = "dynamics_365", _("Dynamics 365")
        MICROSOFT_365 = "microsoft_365", _("Microsoft 365 / Office 365")
        ON_PREMISES = "on_premises", _("On-premises product")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="subscriptions"
    )
    partner_center_id = models.CharField(_("Partner Center subscription ID"), max_length=64)
    offer_name = models.CharField(_("offer"), max_length=200)
    sku_name = models.CharField(_("SKU"), max_length=200, blank=True)
    product_family = models.CharField(
        _("product family"), max_length=20, choices=ProductFamily.choices, default="other"
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    billing_cycle = models.CharField(_("billing cycle"), max_length=40, blank=True)
    term_end_date = models.DateField(_("term end date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    suspension_reason = models.CharField(_("suspension reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["offer_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "customer", "partner_center_id"],
                name="subscription_unique_pc_id",
            )
        ]
        indexes = [models.Index(fields=["partner", "customer", "status"])]

    def __str__(self):
        return self.offer_name


class Invoice(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    OPEN_STATUSES = (Status.OPEN, Status.PARTIALLY_PAID)

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(_("invoice number"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default="open")
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=ZERO)
    tax_total = models.DecimalField(_("tax"), **MONEY, default=ZERO)
    total = models.DecimalField(_("total"), **MONEY, default=ZERO)
    amount_paid = models.DecimalField(_("paid"), **MONEY, default=ZERO)
    partner_center_invoice = models.CharField(
        _("Partner Center invoice"), max_length=40, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "number"], name="invoice_unique_number"),
            models.CheckConstraint(
                condition=models.Q(amount_paid__gte=0), name="invoice_paid_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "status", "due_date"]),
            models.Index(fields=["partner", "customer", "due_date"]),
            # The open book alone, with what the aging buckets and the overdue accounts sum:
            # both dashboards read it as an index-only scan, however many paid invoices lie
            # behind it.
            models.Index(
                fields=["partner", "currency", "due_date"],
                include=["id", "customer", "total", "amount_paid"],
                condition=models.Q(status__in=["open", "partially_paid"]),
                name="invoice_open_book_idx",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def balance(self) -> Decimal:
        if self.status == self.Status.VOID:
            return ZERO
        return self.total - self.amount_paid

    def days_overdue(self, today) -> int:
        return max((today - self.due_date).days, 0)


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="lines"
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=4, default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=4)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    charge_type = models.CharField(_("charge type"), max_length=20, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["partner", "invoice"])]


class Payment(TenantModel):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        CARD = "card", _("Card")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # What is not allocated to an invoice yet: the customer's credit, used for the next one.
    unallocated = models.DecimalField(_("credit left"), **MONEY, default=ZERO)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=models.Q(unallocated__gte=0)
                & models.Q(unallocated__lte=models.F("amount")),
                name="payment_unallocated_in_range",
            ),
        ]
        indexes = [models.Index(fields=["partner", "customer", "received_on"])]


class PaymentAllocation(TenantModel):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_positive")
        ]
        indexes = [
            models.Index(fields=["partner", "invoice"]),
            models.Index(fields=["partner", "payment"]),
        ]


class BillingEvent(TenantModel):
    """The account's timeline: every change a service made, by whom (None: the sweep)."""

    class Kind(models.TextChoices):
        PAYMENT_RECORDED = "payment_recorded", _("Payment recorded")
        REMINDER_SENT = "reminder_sent", _("Reminder sent")
        SUSPENSION_REQUESTED = "suspension_requested", _("Suspension requested")
        SUSPENSION_APPROVED = "suspension_approved", _("Suspension approved")
        SUSPENSION_SKIPPED = "suspension_skipped", _("Suspension skipped")
        SUSPENSION_APPLIED = "suspension_applied", _("Suspended in Partner Center")
        SUSPENSION_FAILED = "suspension_failed", _("Suspension failed")
        REINSTATEMENT_REQUESTED = "reinstatement_requested", _("Reinstatement requested")
        REINSTATED = "reinstated", _("Reinstated in Partner Center")
        HOLD_PLACED = "hold_placed", _("Invoice put on hold")
        HOLD_RELEASED = "hold_released", _("Hold released")
        POLICY_PUBLISHED = "policy_published", _("Collection policy published")
        POLICY_ACKNOWLEDGED = "policy_acknowledged", _("Collection policy acknowledged")
        IMPORTED = "imported", _("Reconciliation file imported")

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, null=True, related_name="+"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, null=True, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["partner", "customer", "created_at"])]
