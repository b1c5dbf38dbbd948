"""A customer data export: requested by a global admin, built by a Celery task, downloaded
by global admins only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel


def export_path(instance: DataExport, filename: str) -> str:
    """Under a random name outside anything served publicly (media is served by views only)."""
    return f"privacy-exports/{instance.partner_id}/{uuid.uuid4().hex}.zip"


class DataExport(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.CASCADE, related_name="data_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(upload_to=export_path, max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["partner", "customer"], name="privacy_export_customer")]

    def __str__(self):
        return f"Export {self.pk} of customer {self.customer_id}"

    @property
    def filename(self) -> str:
        return f"customer-{self.customer_id}-export-{self.pk}.zip"
