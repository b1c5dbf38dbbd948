from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "task", "available_at", "attempts", "sent_at", "last_error")
    list_filter = ("task",)
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
