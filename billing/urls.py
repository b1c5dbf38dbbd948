from django.urls import path

from . import views

staff_patterns = (
    [
        path("", views.OverdueDashboardView.as_view(), name="dashboard"),
        path("tomorrow/", views.TomorrowView.as_view(), name="tomorrow"),
        path("customers/<int:customer_id>/", views.AccountView.as_view(), name="account"),
        path(
            "customers/<int:customer_id>/payments/",
            views.PaymentCreateView.as_view(),
            name="payment-create",
        ),
        path(
            "customers/<int:customer_id>/suspend/",
            views.SuspendView.as_view(),
            name="suspend",
        ),
        path(
            "customers/<int:customer_id>/statement.pdf",
            views.StaffStatementPdfView.as_view(),
            name="statement-pdf",
        ),
        path(
            "suspensions/<int:suspension_id>/<str:action>/",
            views.SuspensionActionView.as_view(),
            name="suspension-action",
        ),
        path(
            "invoices/<int:invoice_id>/invoice.pdf",
            views.StaffInvoicePdfView.as_view(),
            name="invoice-pdf",
        ),
        path(
            "reminders/<int:reminder_id>/letter.pdf",
            views.ReminderPdfView.as_view(),
            name="reminder-pdf",
        ),
        path("policy/", views.PolicyEditView.as_view(), name="policy"),
        path("import/", views.ImportView.as_view(), name="import"),
    ],
    "billing",
)

customer_patterns = (
    [
        path("", views.CustomerInvoicesView.as_view(), name="invoices"),
        path("statement.pdf", views.CustomerStatementPdfView.as_view(), name="statement-pdf"),
        path(
            "invoices/<int:invoice_id>/invoice.pdf",
            views.CustomerInvoicePdfView.as_view(),
            name="invoice-pdf",
        ),
        path(
            "invoices/<int:invoice_id>/ask/",
            views.InquiryView.as_view(),
            name="inquiry",
        ),
        path("policy/", views.CustomerPolicyView.as_view(), name="policy"),
    ],
    "billing-portal",
)
