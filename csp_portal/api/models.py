"""API tokens that a partner's global admin issues per integration, and the record that makes
a retried create return its first result."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csp_portal.accounts.tenancy import TenantModel

TOKEN_PREFIX = "csp"


class Scope(models.TextChoices):
    CUSTOMERS_READ = "customers:read", _("Customers: read")
    CUSTOMERS_WRITE = "customers:write", _("Customers: write")
    TICKETS_READ = "tickets:read", _("Tickets: read")
    TICKETS_WRITE = "tickets:write", _("Tickets: write")
    BILLING_READ = "billing:read", _("Billing: read")
    BILLING_WRITE = "billing:write", _("Billing: write")
    ESCALATIONS_READ = "escalations:read", _("Escalations: read")
    ESCALATIONS_WRITE = "escalations:write", _("Escalations: write")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(TenantModel):
    """A bearer token. It acts as `user` (whose roles in the partner still apply) and only
    within its scopes. The secret is shown once; only its SHA-256 is stored."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices), default=list)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["partner", "user"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str]:
        """(prefix, full key). The key is `csp_<prefix>_<secret>`."""
        prefix = secrets.token_hex(6)
        return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def scope_labels(self) -> list[str]:
        return [str(Scope(scope).label) for scope in self.scopes]


class IdempotencyRecord(TenantModel):
    """The first response to a create sent with an `Idempotency-Key` header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "user", "key"], name="idempotency_unique_key"
            )
        ]
