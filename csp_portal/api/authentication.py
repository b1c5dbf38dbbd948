"""Bearer tokens: `Authorization: Bearer csp_<prefix>_<secret>`, valid on the issuing
partner's portal only (row-level security hides other partners' tokens)."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from .models import TOKEN_PREFIX, ApiToken, hash_key

LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        scheme, _space, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = key.strip()
        parts = key.split("_", 2)
        partner = getattr(request._request, "partner", None)
        if partner is None or len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise AuthenticationFailed(_("Invalid token."))
        token = (
            ApiToken.objects.for_partner(partner)
            .select_related("user")
            .filter(prefix=parts[1])
            .first()
        )
        if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
            raise AuthenticationFailed(_("Invalid token."))
        if not token.is_usable or not token.user.is_active:
            raise AuthenticationFailed(_("This token has expired or was revoked."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.for_partner(partner).filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
