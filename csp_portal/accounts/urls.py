from django.urls import path

from . import views

portal_patterns = (
    [
        path("", views.HomeView.as_view(), name="home"),
        path("support/", views.SupportOfferingView.as_view(), name="support-offering"),
        path("branding/logo", views.LogoView.as_view(), name="logo"),
        path("company/users/", views.CompanyUsersView.as_view(), name="company-users"),
    ],
    "portal",
)

accounts_patterns = (
    [
        path("profile/", views.ProfileView.as_view(), name="profile"),
        path(
            "invitations/<str:token>/",
            views.InvitationAcceptView.as_view(),
            name="invitation-accept",
        ),
    ],
    "accounts",
)

staff_patterns = (
    [
        path("", views.DashboardView.as_view(), name="dashboard"),
        path("customers/", views.CustomerListView.as_view(), name="customer-list"),
        path("customers/new/", views.CustomerEditView.as_view(), name="customer-create"),
        path(
            "customers/<int:customer_id>/",
            views.CustomerDetailView.as_view(),
            name="customer-detail",
        ),
        path(
            "customers/<int:customer_id>/edit/",
            views.CustomerEditView.as_view(),
            name="customer-edit",
        ),
        path(
            "customers/<int:customer_id>/invite/",
            views.CustomerInviteView.as_view(),
            name="customer-invite",
        ),
        path("contacts/<int:contact_id>/", views.ContactEditView.as_view(), name="contact-edit"),
        path("team/", views.TeamView.as_view(), name="team"),
        path(
            "team/<int:membership_id>/", views.MembershipEditView.as_view(), name="membership-edit"
        ),
        path(
            "invitations/<int:invitation_id>/revoke/",
            views.InvitationRevokeView.as_view(),
            name="invitation-revoke",
        ),
        path("settings/", views.SettingsView.as_view(), name="settings"),
        path(
            "settings/support-offering/",
            views.SupportOfferingSettingsView.as_view(),
            name="support-offering",
        ),
    ],
    "staff",
)
