"""What arrived by e-mail. Imported by tickets.models, so the app registers these models.

- `InboundMessage` (a partner's row): every message whose partner is known — by a verified
  reply address or by the partner's support address — with what became of it: applied to a
  ticket, held for an agent (unknown sender), accepted or discarded by an agent, or rejected
  (expired reply address, a ticket or person that does not match, an automatic reply). Its
  unique `(partner, dedupe_key)` makes a message delivered twice count once.
- `InboundRejection` (the platform operator's log, no partner): messages no partner can be
  trusted with — malformed MIME, a forged or damaged reply address, no partner address among
  the recipients. A forged token names a partner only in its own (unverified) words, so its
  log row must not land in that partner's data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel


def inbound_raw_path(instance: InboundMessage, filename: str) -> str:
    return f"inbound/{instance.partner_id}/{uuid.uuid4().hex}.eml"


class InboundMessage(TenantModel):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Added to a ticket")
        HELD = "held", _("Waiting for an agent")
        ACCEPTED = "accepted", _("Accepted by an agent")
        DISCARDED = "discarded", _("Discarded")
        REJECTED = "rejected", _("Rejected")

    dedupe_key = models.CharField(max_length=64)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    sender_name = models.CharField(_("sender name"), max_length=200, blank=True)
    recipient = models.CharField(_("addressed to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)
    raw = models.FileField(upload_to=inbound_raw_path, max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    case_number = models.CharField(_("Microsoft case number"), max_length=40, blank=True)
    notes = models.JSONField(default=list, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "dedupe_key"], name="inbound_message_once_per_partner"
            )
        ]
        indexes = [
            models.Index(
                fields=["partner", "status", "-received_at"], name="inbound_message_status_idx"
            )
        ]

    def __str__(self):
        return f"{self.sender}: {self.subject}"


class InboundRejection(models.Model):
    """The platform operator's log of messages refused before any partner was known."""

    message_id = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    recipients = models.TextField(blank=True)
    subject = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=300)
    size = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["-received_at"], name="inbound_rejection_time_idx")]

    def __str__(self):
        return f"{self.sender}: {self.reason}"
