"""Per-token rate limits (each token carries its own), per-user for browser sessions."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        # The rate depends on the request's token, so it is chosen in allow_request.
        pass

    def allow_request(self, request, view):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        per_minute = token.rate_limit_per_minute if token else settings.API_SESSION_RATE_PER_MINUTE
        self.rate = f"{per_minute}/min"
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"
