"""/api/ on a partner's portal: the versioned API, its OpenAPI schema and its documentation."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from billing.api.views import (
    BillingInquiryViewSet,
    CollectionPolicyViewSet,
    InvoiceViewSet,
    PaymentViewSet,
    SubscriptionViewSet,
    SuspensionViewSet,
)
from csp_portal.accounts.api.views import ContactViewSet, CustomerViewSet
from escalation.api.views import EscalationViewSet
from tickets.api.views import AttachmentViewSet, TicketViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("attachments", AttachmentViewSet, basename="attachment")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("collection-policies", CollectionPolicyViewSet, basename="collection-policy")
router.register("billing-inquiries", BillingInquiryViewSet, basename="billing-inquiry")
router.register("suspensions", SuspensionViewSet, basename="suspension")
router.register("escalations", EscalationViewSet, basename="escalation")

urlpatterns = [
    path("v1/", include((router.urls, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The documentation page loads its start-up script from its own URL (?script), so the
    # Content Security Policy needs no inline script; Swagger UI's own <style> and data: icons
    # are allowed on this page only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
