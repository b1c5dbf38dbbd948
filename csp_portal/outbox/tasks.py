"""Tasks of the outbox: publishing the rows of one `enqueue_many`, and the beat tasks (the
relay, every few seconds, and the daily clean-up)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(ignore_result=True)
def outbox_publish(*, message_ids: list[int]) -> int:
    return services.publish_many(message_ids)


@shared_task(ignore_result=True)
def outbox_relay() -> int:
    return services.relay_pending()


@shared_task(ignore_result=True)
def outbox_prune() -> int:
    return services.prune_sent(keep=timedelta(days=getattr(settings, "OUTBOX_KEEP_SENT_DAYS", 7)))
