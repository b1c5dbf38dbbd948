"""Partner Center invoice reconciliation files that were imported."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel


class ReconciliationImport(TenantModel):
    """One imported file; its SHA-256 is unique per partner, so importing it again is a no-op."""

    file_name = models.CharField(_("file name"), max_length=200)
    file_hash = models.CharField(_("SHA-256"), max_length=64)
    row_count = models.PositiveIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    created_customers = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "file_hash"], name="import_unique_file")
        ]
