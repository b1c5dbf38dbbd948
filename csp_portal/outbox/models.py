from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """One Celery task to send: written in the transaction of the change that asks for it, so
    the work exists exactly when the change does.

    Platform-level on purpose (no partner key, no row-level security): the relay reads every
    partner's rows, and a row holds only a task name and ids (the task re-fetches inside its
    partner's scope). The partner, when there is one, is in `kwargs["partner_id"]`."""

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the task may run: now, or the caller's ETA. Rows due later than the broker can
    # safely hold are published only when due (see services.broker_max_eta).
    available_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_pending",
            ),
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent"
            ),
        ]

    def __str__(self):
        return f"{self.task} {self.kwargs}"
