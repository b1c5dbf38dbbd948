from django.urls import path

from . import views

staff_patterns = (
    [
        path(
            "tickets/<int:ticket_id>/escalate/",
            views.EscalateView.as_view(),
            name="escalation-create",
        ),
        path(
            "<int:escalation_id>/case-number/",
            views.CaseNumberView.as_view(),
            name="escalation-case-number",
        ),
        path(
            "<int:escalation_id>/prepared.txt",
            views.PreparedTextView.as_view(),
            name="escalation-prepared",
        ),
        path(
            "<int:escalation_id>/sync/",
            views.SyncView.as_view(),
            name="escalation-sync",
        ),
        path("entitlements/", views.EntitlementsView.as_view(), name="entitlements"),
        path("report/", views.ReportView.as_view(), name="report"),
    ],
    "escalation",
)
