"""URLs of a partner's portal (at <slug>.<PORTAL_DOMAIN>, a custom domain, or /p/<slug>/)."""

from django.urls import include, path

from billing.urls import customer_patterns as billing_customer_patterns
from billing.urls import staff_patterns as billing_staff_patterns
from csp_portal.accounts.urls import accounts_patterns, portal_patterns, staff_patterns
from csp_portal.api.pages import urlpatterns as api_token_patterns
from csp_portal.audit.urls import staff_patterns as audit_staff_patterns
from csp_portal.privacy.urls import staff_patterns as privacy_staff_patterns
from csp_portal.webhooks.pages import staff_patterns as webhook_staff_patterns
from escalation.urls import staff_patterns as escalation_staff_patterns
from tickets.email_urls import staff_patterns as inbound_staff_patterns
from tickets.urls import customer_patterns as ticket_customer_patterns
from tickets.urls import staff_patterns as ticket_staff_patterns

from . import health

urlpatterns = [
    path("", include(portal_patterns)),
    path("accounts/", include("allauth.urls")),
    path("me/", include(accounts_patterns)),
    path("staff/", include(staff_patterns)),
    path("requests/", include(ticket_customer_patterns)),
    path("staff/tickets/", include(ticket_staff_patterns)),
    path("staff/escalations/", include(escalation_staff_patterns)),
    path("staff/tickets/inbound/", include(inbound_staff_patterns)),
    path("staff/api-tokens/", include(api_token_patterns)),
    path("staff/webhooks/", include(webhook_staff_patterns)),
    path("staff/audit/", include(audit_staff_patterns)),
    path("staff/customers/<int:customer_id>/privacy/", include(privacy_staff_patterns)),
    path("api/", include("csp_portal.api.urls")),
    path("billing/", include(billing_customer_patterns)),
    path("staff/billing/", include(billing_staff_patterns)),
    path("healthz", health.liveness, name="healthz"),
]

handler404 = "csp_portal.errors.not_found"
handler403 = "csp_portal.errors.forbidden"
handler500 = "csp_portal.errors.server_error"
