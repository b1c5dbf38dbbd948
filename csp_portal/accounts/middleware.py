"""Which partner a request belongs to, and the row-level-security scope it runs in."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation

from . import partner_cache
from .models import Partner
from .tenancy import partner_scope

_PATH_PREFIX = re.compile(r"^/p/(?P<slug>[a-z0-9-]{1,40})(?P<rest>/.*)?$")


def _not_found(request):
    return render(request, "404.html", status=404)


def resolve_partner(host: str, path: str) -> tuple[Partner | None, str | None, bool]:
    """(partner, path prefix, known host) for a request's host and path.

    `<slug>.<PORTAL_DOMAIN>` and a verified custom domain name a partner; the portal's own
    domain (and localhost) serves the platform and the `/p/<slug>/` fallback.
    """
    host = host.split(":")[0].lower().rstrip(".")
    active = Partner.objects.filter(is_active=True)
    if host in settings.PLATFORM_HOSTS:
        match = _PATH_PREFIX.match(path)
        if not match:
            return None, None, True
        slug = match["slug"]
        partner = partner_cache.lookup("slug", slug, active.filter(slug=slug).first)
        return partner, f"/p/{slug}", partner is not None
    suffix = "." + settings.PORTAL_DOMAIN
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        partner = partner_cache.lookup("slug", slug, active.filter(slug=slug).first)
    else:
        partner = partner_cache.lookup(
            "domain",
            host,
            active.filter(custom_domain=host, custom_domain_verified=True).first,
        )
    return partner, None, partner is not None


class PartnerMiddleware:
    """Sets `request.partner` from the host (or the /p/<slug>/ prefix); unknown → 404 page.

    With the prefix, the rest of the path is routed and `reverse()` includes the prefix, so the
    same URLconf serves `acme.portal.example/tickets/` and `localhost/p/acme/tickets/`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        partner, prefix, known = resolve_partner(request.get_host(), request.path_info)
        request.partner = partner
        if not known:
            return _not_found(request)
        if partner is None:
            return self.get_response(request)
        request.urlconf = settings.PARTNER_URLCONF
        if prefix:
            rest = request.path_info[len(prefix) :] or "/"
            script_name = request.META.get("SCRIPT_NAME", "").rstrip("/") + prefix
            request.META["SCRIPT_NAME"] = script_name
            request.path_info = rest
            set_script_prefix(script_name + "/")
        timezone.activate(partner.tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            if prefix:
                set_script_prefix(request.META["SCRIPT_NAME"][: -len(prefix)] + "/")


class PartnerScopeMiddleware:
    """Runs the rest of the request in one transaction scoped to the request's partner.

    Row-level security then admits only that partner's rows. On the platform host, the
    operator's Django admin (superusers only) reads across partners.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        partner = request.partner
        if partner is None:
            bypass = request.path_info.startswith("/admin/") and request.user.is_superuser
            with partner_scope(None, bypass=bypass):
                return self.get_response(request)
        with partner_scope(partner):
            request.membership = None
            request.contact = None
            user = request.user
            if user.is_authenticated:
                from .selectors import contact_for, membership_for

                request.membership = membership_for(partner=partner, user=user)
                request.contact = (
                    None if request.membership else contact_for(partner=partner, user=user)
                )
                language = user.language or (
                    request.contact.customer.language if request.contact else ""
                )
                if language:
                    translation.activate(language)
                    request.LANGUAGE_CODE = language
                if user.time_zone:
                    timezone.activate(user.time_zone)
            return self.get_response(request)


class StaffMfaMiddleware:
    """Partner staff must enrol in two-factor sign-in before they reach the workspace, where
    the partner requires it (the default).

    Once an authenticator is found, the session remembers it (for that user), so the
    workspace does not ask again on every page; removing the authenticator forgets it
    (`forget_enrolment`, on allauth's `authenticator_removed`)."""

    SESSION_KEY = "staff_totp_user"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = getattr(request, "membership", None)
        if (
            membership is not None
            and request.partner.require_staff_mfa
            and request.path_info.startswith("/staff/")
            and not self.enrolled(request)
        ):
            return redirect(
                f"{reverse('mfa_activate_totp', urlconf=request.urlconf)}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    @classmethod
    def enrolled(cls, request) -> bool:
        if request.session.get(cls.SESSION_KEY) == request.user.pk:
            return True
        from allauth.mfa.models import Authenticator

        found = Authenticator.objects.filter(
            user=request.user, type=Authenticator.Type.TOTP
        ).exists()
        if found:
            request.session[cls.SESSION_KEY] = request.user.pk
        return found


def forget_enrolment(sender, request=None, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.pop(StaffMfaMiddleware.SESSION_KEY, None)
