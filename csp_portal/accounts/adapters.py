"""django-allauth hooks: sign-up only by invitation; links on the partner's own portal."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.urls import get_script_prefix

from .urls_util import platform_url


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return settings.ACCOUNT_SIGNUP_OPEN

    def get_from_email(self):
        return settings.DEFAULT_FROM_EMAIL

    def build_absolute_uri(self, request, location):
        """Password-reset and confirmation links come from configuration, never from the
        request's Host header."""
        partner = getattr(request, "partner", None) if request is not None else None
        if partner is None:
            return platform_url(location)
        prefix = get_script_prefix()
        if location.startswith(prefix):
            location = "/" + location[len(prefix) :]
        return partner.portal_url(location)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        # Microsoft sign-in connects to an existing, invited account (matched by verified
        # e-mail); it does not create people.
        return False
