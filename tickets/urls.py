from django.urls import path

from . import sla_views, views

customer_patterns = (
    [
        path("", views.RequestListView.as_view(), name="request-list"),
        path("new/", views.RequestCreateView.as_view(), name="request-create"),
        path("<int:ticket_id>/", views.RequestDetailView.as_view(), name="request-detail"),
        path("<int:ticket_id>/status/", views.RequestStatusView.as_view(), name="request-status"),
        path("<int:ticket_id>/rate/", views.RequestRateView.as_view(), name="request-rate"),
        path(
            "attachments/<int:attachment_id>/",
            views.RequestAttachmentView.as_view(),
            name="attachment-download",
        ),
    ],
    "requests",
)

staff_patterns = (
    [
        path("", views.TicketListView.as_view(), name="ticket-list"),
        path("new/", views.TicketCreateView.as_view(), name="ticket-create"),
        path("customers/", views.CustomerSuggestView.as_view(), name="customer-suggest"),
        path("<int:ticket_id>/", views.TicketDetailView.as_view(), name="ticket-detail"),
        path("<int:ticket_id>/update/", views.TicketUpdateView.as_view(), name="ticket-update"),
        path("<int:ticket_id>/merge/", views.TicketMergeView.as_view(), name="ticket-merge"),
        path(
            "attachments/<int:attachment_id>/",
            views.AttachmentView.as_view(),
            name="attachment-download",
        ),
        path("sla/", sla_views.SlaReportView.as_view(), name="sla-report"),
        path("sla/settings/", sla_views.SlaSettingsView.as_view(), name="sla-settings"),
        path("canned/", views.CannedResponseListView.as_view(), name="canned-list"),
        path("canned/<int:canned_id>/", views.CannedResponseEditView.as_view(), name="canned-edit"),
    ],
    "tickets",
)
