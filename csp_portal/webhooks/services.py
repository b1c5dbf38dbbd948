"""Changes to webhooks. `webhook_emit` is what other apps call: it writes one delivery per
subscribed endpoint in the caller's transaction and sends each after commit, so an event of
a rolled-back change is never delivered."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from csp_portal import outbox

from . import signing, targets
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"


def _send_after_commit(*, partner_id: int, delivery_ids: list[int]) -> None:
    from .tasks import webhook_deliver

    for delivery_id in delivery_ids:
        outbox.enqueue(webhook_deliver, partner_id=partner_id, delivery_id=delivery_id)


@transaction.atomic
def webhook_endpoint_create(
    *, partner, url: str, events, description: str = "", created_by=None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret (shown once)."""
    url = url.strip()
    errors = {}
    try:
        targets.resolve(url)
    except targets.TargetRefused as error:
        errors["url"] = str(error)
    events = sorted(set(events))
    if not events or any(event not in Event.values for event in events):
        errors["events"] = _("Choose at least one event.")
    if errors:
        raise ValidationError(errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        partner=partner,
        url=url,
        events=events,
        description=description.strip()[:200],
        secret=secret,
        created_by=created_by,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, is_active: bool) -> None:
    WebhookEndpoint.objects.for_partner(endpoint.partner_id).filter(pk=endpoint.pk).update(
        is_active=is_active
    )


def webhook_emit(*, partner, event: str, payload: dict) -> list[int]:
    """Queue `event` with `payload` (JSON-able: ids, strings, decimals, dates) to every
    active endpoint of `partner` subscribed to it. Call it inside the change's transaction;
    nothing is sent unless that transaction commits. Returns the delivery ids."""
    partner_id = getattr(partner, "pk", partner)
    event = Event(event)
    endpoint_ids = list(
        WebhookEndpoint.objects.for_partner(partner_id)
        .filter(is_active=True, events__contains=[event.value])
        .values_list("pk", flat=True)
    )
    if not endpoint_ids:
        return []
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                partner_id=partner_id,
                endpoint_id=endpoint_id,
                event=event.value,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    _send_after_commit(partner_id=partner_id, delivery_ids=ids)
    return ids


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, with a fresh budget of attempts (its log is kept)."""
    locked = (
        WebhookDelivery.objects.for_partner(delivery.partner_id)
        .select_for_update()
        .get(pk=delivery.pk)
    )
    locked.status = WebhookDelivery.Status.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.save(update_fields=["status", "attempts", "next_attempt_at"])
    _send_after_commit(partner_id=locked.partner_id, delivery_ids=[locked.pk])
    return locked


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: doubling from the base, capped."""
    seconds = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def body_for(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.uuid),
        "event": delivery.event,
        "created_at": delivery.created_at,
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def webhook_attempt(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Make one attempt of a due delivery (the caller holds its row lock), log it, and set
    what follows: delivered, a retry after the backoff, or failed after the last attempt."""
    endpoint = delivery.endpoint
    body = body_for(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CSP-Portal-Webhooks/1",
        signing.EVENT_HEADER: delivery.event,
        signing.DELIVERY_HEADER: str(delivery.uuid),
        signing.SIGNATURE_HEADER: signing.signature_header(secret=endpoint.secret, body=body),
    }
    started = time.monotonic()
    now = timezone.now()
    code, error, retryable = None, "", True
    if not endpoint.is_active:
        error, retryable = _("The endpoint is disabled."), False
    else:
        try:
            code, answer = targets.post(
                endpoint.url,
                body=body,
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            )
        except targets.TargetRefused as refused:
            error, retryable = str(refused), False
        except (OSError, http.client.HTTPException, ValueError) as failure:
            error = f"{type(failure).__name__}: {failure}"
        else:
            if not 200 <= code < 300:
                error = _("The endpoint answered %(code)s: %(answer)s") % {
                    "code": code,
                    "answer": answer[:300].decode("utf-8", "replace"),
                }
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        partner_id=delivery.partner_id,
        delivery=delivery,
        number=delivery.attempts,
        attempted_at=now,
        response_code=code,
        error=error[:2000],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    delivery.response_code = code
    delivery.last_error = error[:2000]
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif retryable and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.RETRYING
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    delivery.save(
        update_fields=[
            "attempts",
            "response_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return delivery
