"""The platform operator's admin. It reads across partners (PartnerScopeMiddleware lets a
superuser's /admin/ requests bypass row-level security); partners use their own workspace."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    ContactMethod,
    Customer,
    CustomerContact,
    Holiday,
    Invitation,
    Membership,
    Partner,
    ServiceHours,
    SupportPlan,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "full_name", "language", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = ["groups"]


class TenantAdmin(admin.ModelAdmin):
    list_filter = ["partner"]
    list_select_related = ["partner"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "slug", "kind", "cloud", "provider", "is_active"]
    list_filter = ["kind", "cloud", "is_active"]
    search_fields = ["display_name", "slug", "mpn_id"]


@admin.register(Customer)
class CustomerAdmin(TenantAdmin):
    list_display = ["company_name", "partner", "primary_domain", "status"]
    search_fields = ["company_name", "primary_domain"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "partner", "roles", "is_active"]
    raw_id_fields = ["user"]


@admin.register(CustomerContact)
class CustomerContactAdmin(TenantAdmin):
    list_display = ["user", "customer", "partner", "role", "is_active"]
    raw_id_fields = ["user", "customer"]


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    list_display = ["email", "partner", "customer", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token"]


admin.site.register([SupportPlan, ServiceHours, Holiday, ContactMethod], TenantAdmin)
