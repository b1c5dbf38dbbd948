from django.urls import path

from . import views

staff_patterns = (
    [path("", views.AuditLogView.as_view(), name="event-list")],
    "audit",
)
