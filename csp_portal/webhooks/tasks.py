"""Celery work of webhooks: one attempt per task run; retries come from the minute sweep,
which re-sends every delivery whose backoff has passed (so a lost message only delays)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from csp_portal.accounts.models import Partner
from csp_portal.accounts.tenancy import partner_scope

from . import services
from .models import WebhookDelivery

SWEEP_BATCH = 500


@shared_task(acks_late=True)
def webhook_deliver(*, partner_id: int, delivery_id: int) -> str:
    with partner_scope(partner_id):
        delivery = (
            WebhookDelivery.objects.for_partner(partner_id)
            .select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(
                pk=delivery_id,
                status__in=WebhookDelivery.DUE_STATUSES,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if delivery is None:
            return "nothing to do"
        return services.webhook_attempt(delivery=delivery).status


@shared_task
def webhook_retry_due() -> int:
    """Every minute: send the deliveries whose next attempt is due, partner by partner."""
    sent = 0
    now = timezone.now()
    for partner_id in Partner.objects.values_list("pk", flat=True):
        with partner_scope(partner_id):
            due = list(
                WebhookDelivery.objects.for_partner(partner_id)
                .filter(status__in=WebhookDelivery.DUE_STATUSES, next_attempt_at__lte=now)
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
        for delivery_id in due:
            webhook_deliver.delay(partner_id=partner_id, delivery_id=delivery_id)
        sent += len(due)
    return sent
