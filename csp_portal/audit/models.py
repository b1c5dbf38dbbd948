"""Audit events: who did what to which object, from where, in which request.

Append-only in the database itself: a trigger (migration 0001) rejects every UPDATE and
DELETE of the table, whoever connects — the application role and the owner alike. Rows point
at people by id only (no foreign-key constraint, so erasing or removing a person never has to
change an audit row)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel


class Action(models.TextChoices):
    """Known actions, with their labels. Other apps may record actions of their own under a
    dotted name; the page shows those by name."""

    MEMBERSHIP_UPDATED = "membership.updated", _("Staff roles or status changed")
    INVITATION_CREATED = "invitation.created", _("Invitation sent")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    CONTACT_UPDATED = "contact.updated", _("Customer user's role or status changed")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    MFA_ADDED = "mfa.authenticator_added", _("Two-factor method added")
    MFA_REMOVED = "mfa.authenticator_removed", _("Two-factor method removed")
    MFA_RESET = "mfa.authenticator_reset", _("Two-factor method reset")
    DATA_EXPORT_REQUESTED = "customer.data_export_requested", _("Customer data export requested")
    DATA_EXPORT_DOWNLOADED = "customer.data_export_downloaded", _("Customer data export downloaded")
    PERSONAL_DATA_ERASED = "customer.personal_data_erased", _("Customer personal data erased")
    SUBSCRIPTION_SUSPENDED = "subscription.suspended", _("Subscription suspended")
    SUBSCRIPTION_REINSTATED = "subscription.reinstated", _("Subscription reinstated")
    ESCALATION_CREATED = "escalation.created", _("Escalated to Microsoft or the provider")


class AuditEvent(TenantModel):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="audit_partner_time"),
            models.Index(fields=["partner", "action", "-created_at"], name="audit_partner_action"),
        ]

    def __str__(self):
        return f"{self.action} #{self.pk}"

    @property
    def action_label(self) -> str:
        try:
            return str(Action(self.action).label)
        except ValueError:
            return self.action
