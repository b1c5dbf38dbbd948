"""Requests and their conversation: tickets, messages, attachments, the timeline and canned
responses. Every row belongs to one partner (child rows included); changes go through
tickets.services, reads through tickets.selectors."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Least
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel

OPEN_STATUS_VALUES = [
    "new",
    "open",
    "waiting_on_customer",
    "waiting_on_microsoft",
    "waiting_on_provider",
]


def running_clock_due() -> Least:
    """The earliest due time among a ticket's running SLA clocks, None when none runs: the
    first response while unanswered and open, the resolution while new or open
    (`sla_services.RUNNING`). The SLA views count through an index on it
    (ticket_sla_due_idx) and filter on this same expression, so the planner can match the
    two; hence the statuses in a fixed order, not a set's."""
    return Least(
        models.Case(
            models.When(
                models.Q(first_response_at__isnull=True, status__in=OPEN_STATUS_VALUES),
                then=models.F("first_response_due_at"),
            )
        ),
        models.Case(models.When(status__in=["new", "open"], then=models.F("resolution_due_at"))),
    )


class TicketCounter(TenantModel):
    """The partner's ticket numbering: its reference prefix and the last number handed out.
    One row per partner, advanced by a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`
    so two requests never receive the same number."""

    prefix = models.CharField(_("reference prefix"), max_length=8)
    last_number = models.PositiveIntegerField(default=1000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner"], name="ticket_counter_one_per_partner")
        ]


class Ticket(TenantModel):
    class Kind(models.TextChoices):
        TECHNICAL = "technical", _("Technical problem")
        BILLING = "billing", _("Billing question")
        SUBSCRIPTION = "subscription", _("Subscription management")

    class Product(models.TextChoices):
        AZURE = "azure", _("Azure")
        DYNAMICS_365 = "dynamics_365", _("Dynamics 365")
        MICROSOFT_365 = "microsoft_365", _("Microsoft 365 / Office 365")
        ON_PREMISES = "on_premises", _("On-premises product")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
        WAITING_ON_MICROSOFT = "waiting_on_microsoft", _("Waiting on Microsoft")
        WAITING_ON_PROVIDER = "waiting_on_provider", _("Waiting on provider")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Level(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        AGENT = "agent", _("Agent")

    OPEN_STATUSES = (
        Status.NEW,
        Status.OPEN,
        Status.WAITING_ON_CUSTOMER,
        Status.WAITING_ON_MICROSOFT,
        Status.WAITING_ON_PROVIDER,
    )

    number = models.PositiveIntegerField(_("number"))
    reference = models.CharField(_("reference"), max_length=20)
    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_tickets",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    product = models.CharField(_("product family"), max_length=20, choices=Product.choices)
    subject = models.CharField(_("subject"), max_length=200)
    # The subscription the request concerns (billing's Partner Center id and name; tickets
    # does not depend on billing).
    subscription_ref = models.CharField(_("subscription"), max_length=64, blank=True)
    subscription_name = models.CharField(_("subscription name"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    impact = models.CharField(_("impact"), max_length=10, choices=Level.choices, default="medium")
    urgency = models.CharField(_("urgency"), max_length=10, choices=Level.choices, default="medium")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.PORTAL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks, kept by tickets.sla_services so lists read them without computing: when the
    # first public answer and the resolution are due. While the resolution clock stands
    # (waiting, resolved, closed) the business seconds it had left are in
    # `resolution_seconds_left` (negative once overdue); it restarts from them.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_seconds_left = models.IntegerField(null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    csat_comment = models.TextField(_("rating comment"), blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_tickets"
    )
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "number"], name="ticket_unique_number"),
            models.CheckConstraint(
                condition=models.Q(csat_score__isnull=True)
                | models.Q(csat_score__gte=1, csat_score__lte=5),
                name="ticket_csat_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "status", "-updated_at"], name="ticket_status_idx"),
            models.Index(fields=["partner", "assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["partner", "customer", "-updated_at"], name="ticket_customer_idx"),
            models.Index(fields=["partner", "requester"], name="ticket_requester_idx"),
            # GIN over the vector alone: a (partner, vector) GIN needs the btree_gin extension,
            # which the embedded server does not ship; every search also filters on partner.
            GinIndex(fields=["search_vector"], name="ticket_search_idx"),
            models.Index(
                fields=["partner", "resolution_due_at"],
                condition=models.Q(status__in=["new", "open"]),
                name="ticket_resolution_due_idx",
            ),
            models.Index(
                fields=["partner", "first_response_due_at"],
                condition=models.Q(first_response_at__isnull=True),
                name="ticket_first_response_due_idx",
            ),
            # Lists ordered newest first, with the id as tie-breaker, read in index order.
            models.Index(fields=["partner", "-updated_at", "-id"], name="ticket_updated_idx"),
            # The open desk: the default view reads it in order, and the view counts (who is
            # assigned, status, the SLA due times) come from it alone, an index-only scan of
            # the open tickets however many years of closed ones lie behind them.
            models.Index(
                fields=["partner", "-updated_at", "-id"],
                include=[
                    "assignee",
                    "status",
                    "first_response_at",
                    "first_response_due_at",
                    "resolution_due_at",
                ],
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_idx",
            ),
            # The SLA views' counts (breaching within the hour, overdue): the open tickets by
            # their earliest running due time, so a count reads only those due within the
            # hour or overdue, index-only, not every open ticket.
            models.Index(
                models.F("partner"),
                running_clock_due(),
                include=[
                    "status",
                    "first_response_at",
                    "first_response_due_at",
                    "resolution_due_at",
                ],
                condition=models.Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_sla_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TicketStatusCount(TenantModel):
    """How many of the partner's tickets are in each status with each assignee (none is a
    row of its own), kept by database triggers on the ticket table (insert, a change of
    status or assignee, delete; per statement, so a bulk load adds its rows in one step).
    The workspace's views that depend on status and assignee alone (unassigned, mine,
    waiting, all open, resolved, closed, all) read these instead of counting tickets on
    every page."""

    status = models.CharField(max_length=20, choices=Ticket.Status.choices)
    # A count, not a reference: a deleted user's tickets lose their assignee, and the trigger
    # moves the count to the unassigned row.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "status", "assignee"],
                nulls_distinct=False,
                name="ticket_status_count_unique",
            )
        ]


class TicketMessage(TenantModel):
    class Format(models.TextChoices):
        MARKDOWN = "markdown", _("Markdown")
        PLAIN = "plain", _("Plain text")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("message"))
    body_format = models.CharField(max_length=10, choices=Format.choices, default=Format.MARKDOWN)
    is_public = models.BooleanField(_("visible to the customer"), default=True)
    is_from_customer = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["partner", "ticket", "created_at"], name="ticket_message_idx")
        ]


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    """Stored under a random name: the uploader's file name never reaches the storage path."""
    return f"tickets/{instance.partner_id}/{instance.ticket_id}/{uuid.uuid4().hex}"


class TicketAttachment(TenantModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["partner", "ticket"], name="ticket_attachment_idx")]

    def __str__(self):
        return self.original_name


class TicketEvent(TenantModel):
    """One line of the ticket's timeline: who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created the ticket")
        REPLIED = "replied", _("replied")
        NOTE_ADDED = "note_added", _("added an internal note")
        STATUS_CHANGED = "status_changed", _("changed the status")
        PRIORITY_CHANGED = "priority_changed", _("changed the priority")
        ASSIGNED = "assigned", _("changed the assignee")
        TAGS_CHANGED = "tags_changed", _("changed the tags")
        CLOSED = "closed", _("closed the ticket")
        REOPENED = "reopened", _("reopened the ticket")
        RATED = "rated", _("rated the resolution")
        MERGED_INTO = "merged_into", _("merged this ticket into another")
        MERGED_FROM = "merged_from", _("merged another ticket into this one")
        SLA_BREACHED = "sla_breached", _("SLA target missed")
        AUTO_CLOSED = "auto_closed", _("closed the resolved ticket automatically")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["partner", "ticket", "created_at"], name="ticket_event_idx")
        ]


class CannedResponse(TenantModel):
    """A reply agents insert with placeholders such as {{ customer.company_name }}."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {{ customer.company_name }}, {{ ticket.reference }}, "
            "{{ ticket.subject }}, {{ requester.name }}, {{ agent.name }}, "
            "{{ partner.display_name }}."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "title"], name="canned_response_unique_title"
            )
        ]

    def __str__(self):
        return self.title


# Inbound e-mail (tickets.email_in) keeps its models in their own module.
from .email_models import InboundMessage, InboundRejection  # noqa: E402, F401

# SLA targets, pauses, breaches and the desk's settings live in their own module.
from .sla_models import DeskSettings, SlaBreach, SlaPause, SlaTarget  # noqa: E402, F401
