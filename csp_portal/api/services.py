"""Issuing and revoking API tokens."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal.accounts.selectors import contact_for, membership_for
from csp_portal.audit.services import audit_record

from .models import ApiToken, Scope, hash_key


@transaction.atomic
def api_token_create(
    *,
    partner,
    name: str,
    user,
    scopes: list[str],
    created_by,
    expires_at=None,
    rate_limit_per_minute=600,
) -> tuple[ApiToken, str]:
    """A new token acting as `user` (a member or customer contact of `partner`). Returns the
    token and its secret key, which is never shown again."""
    if (
        membership_for(partner=partner, user=user) is None
        and contact_for(partner=partner, user=user) is None
    ):
        raise ValidationError({"user": _("The token must act as a person of this portal.")})
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    prefix, key = ApiToken.generate()
    token = ApiToken.objects.create(
        partner=partner,
        name=name.strip(),
        user=user,
        scopes=[Scope(scope).value for scope in scopes],
        prefix=prefix,
        key_hash=hash_key(key),
        created_by=created_by,
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    audit_record(
        partner=partner,
        actor=created_by,
        action="api_token.created",
        target=token,
        data={
            "name": token.name,
            "prefix": prefix,
            "user_id": user.pk,
            "scopes": token.scopes,
            "expires_at": expires_at,
        },
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, acting_user=None) -> None:
    revoked = (
        ApiToken.objects.for_partner(token.partner_id)
        .filter(pk=token.pk, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    if revoked:
        audit_record(
            partner=token.partner_id,
            actor=acting_user,
            action="api_token.revoked",
            target=token,
            data={"name": token.name, "prefix": token.prefix},
        )
