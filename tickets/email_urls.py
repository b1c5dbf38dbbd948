"""URLs of inbound e-mail: the agents' page (partner portal, under staff/tickets/inbound/) and
the webhook (platform host, /inbound/email/)."""

from django.urls import path

from . import email_views

staff_patterns = (
    [
        path("", email_views.InboundListView.as_view(), name="message-list"),
        path("<int:inbound_id>/", email_views.InboundDetailView.as_view(), name="message-detail"),
    ],
    "inbound",
)

platform_patterns = [
    path("email/", email_views.inbound_email_webhook, name="inbound-email"),
]
