from django.urls import path

from . import views

staff_patterns = (
    [
        path("", views.PrivacyView.as_view(), name="customer"),
        path("exports/", views.ExportCreateView.as_view(), name="export-create"),
        path(
            "exports/<int:export_id>/download/",
            views.ExportDownloadView.as_view(),
            name="export-download",
        ),
        path("erase/", views.EraseView.as_view(), name="erase"),
    ],
    "privacy",
)
