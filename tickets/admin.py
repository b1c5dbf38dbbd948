"""The platform operator's admin for tickets (read across partners, as accounts' admin)."""

from django.contrib import admin

from .email_models import InboundMessage, InboundRejection


@admin.register(InboundRejection)
class InboundRejectionAdmin(admin.ModelAdmin):
    """Mail refused before any partner was known: malformed, forged reply addresses."""

    list_display = ["received_at", "sender", "subject", "reason", "size"]
    search_fields = ["sender", "subject", "message_id", "reason"]
    readonly_fields = [f.name for f in InboundRejection._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "partner", "sender", "subject", "status", "reason"]
    list_filter = ["status", "partner"]
    list_select_related = ["partner"]
    search_fields = ["sender", "subject", "message_id"]
    exclude = ["raw"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
