"""Links to a partner's portal from outside a request (e-mails, tasks)."""

from django.conf import settings
from django.urls import get_script_prefix, reverse


def partner_url(partner, viewname: str, **kwargs) -> str:
    """Absolute URL of a partner-portal view, from configuration, never from a Host header."""
    path = reverse(viewname, urlconf=settings.PARTNER_URLCONF, kwargs=kwargs or None)
    prefix = get_script_prefix()
    if path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    return partner.portal_url(path)


def platform_url(path: str = "/") -> str:
    """Absolute URL on the platform host (the operator's admin), from configuration."""
    host = settings.PORTAL_DOMAIN
    if host in {"localhost", "127.0.0.1"} and settings.PORTAL_PORT not in (80, 443):
        host = f"{host}:{settings.PORTAL_PORT}"
    return f"{settings.PORTAL_SCHEME}://{host}{path}"
