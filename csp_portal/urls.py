"""URLs of the platform host: the operator's admin, health, and the partner directory.

Partner portals use csp_portal/urls_partner.py (chosen per request by PartnerMiddleware)."""

from django.contrib import admin
from django.urls import include, path

from tickets import email_urls

from . import health, views
from .ops.views import metrics_view

admin.site.site_header = "CSP portal — platform administration"

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
    path("admin/", admin.site.urls),
    path("healthz", health.liveness, name="healthz"),
    path("readyz", health.readiness, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("inbound/", include(email_urls.platform_patterns)),
]

handler404 = "csp_portal.errors.not_found"
handler403 = "csp_portal.errors.forbidden"
handler500 = "csp_portal.errors.server_error"
