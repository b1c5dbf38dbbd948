"""Events reach the partner's receiver signed, after the change commits; a receiver that fails
gets retries with growing waits, up to the ceiling, and the log shows each attempt."""

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine
from django.test import TestCase

from csp_portal.webhooks import services, signing
from csp_portal.webhooks.models import WebhookAttempt, WebhookDelivery
from csp_portal.webhooks.tasks import webhook_retry_due
from tests.webhooks.conftest import Receiver, run_tasks
from tickets.services import ticket_change, ticket_create

START = datetime.datetime(2026, 3, 10, 9, tzinfo=datetime.UTC)


def _endpoint(tenant, url, events=("ticket.created", "ticket.updated")):
    endpoint, secret = services.webhook_endpoint_create(
        partner=tenant.partner, url=url, events=list(events)
    )
    return endpoint, secret


def _open_ticket(tenant):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return ticket_create(
            partner=tenant.partner,
            customer=tenant.customer,
            requester=tenant.customer_user.user,
            kind="technical",
            product="microsoft_365",
            subject="Teams does not start",
            body="Since the update.",
        )


def _documented_signature(secret: str, header: str, body: bytes) -> bool:
    """The receiver's check, written from the documentation alone."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = f"{fields['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


@pytest.mark.django_db
def test_a_ticket_created_reaches_the_receiver_signed(tenant_a, tenant_b, receiver):
    _endpoint_a, secret = _endpoint(tenant_a, receiver.url)
    _endpoint(tenant_b, receiver.url)

    ticket = _open_ticket(tenant_a)
    run_tasks()

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    delivery = WebhookDelivery.objects.for_partner(tenant_a.partner).get()
    assert request["path"] == "/hooks/csp"
    assert headers["X-CSP-Event"] == "ticket.created"
    assert headers["X-CSP-Delivery"] == str(delivery.uuid)
    assert _documented_signature(secret, headers["X-CSP-Signature"], body)
    assert not _documented_signature("whsec_wrong", headers["X-CSP-Signature"], body)
    assert signing.verify(secret=secret, header=headers["X-CSP-Signature"], body=body)
    assert json.loads(body)["data"]["ticket"]["reference"] == ticket.reference
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.response_code == 200


@pytest.mark.django_db
def test_a_tampered_or_stale_delivery_does_not_verify():
    body = b'{"event":"ticket.created"}'
    header = signing.signature_header(secret="whsec_x", body=body, timestamp=1_700_000_000)

    assert signing.verify(secret="whsec_x", header=header, body=body, now=1_700_000_060)
    assert not signing.verify(secret="whsec_x", header=header, body=body + b" ", now=1_700_000_060)
    assert not signing.verify(secret="whsec_x", header=header, body=body, now=1_700_009_000)
    assert not signing.verify(secret="whsec_x", header="v1=abc", body=body)


@pytest.mark.django_db
def test_only_subscribed_events_are_sent_and_nothing_before_commit(tenant_a, receiver):
    _endpoint(tenant_a, receiver.url, events=["ticket.updated"])
    ticket = _open_ticket(tenant_a)
    run_tasks()

    with TestCase.captureOnCommitCallbacks(execute=False) as pending:
        ticket_change(ticket=ticket, acting_user=tenant_a.admin.user, priority="high")
    queued_before_commit = run_tasks()
    for callback in pending:
        callback()
    run_tasks()

    assert queued_before_commit == []
    assert [r["headers"]["X-CSP-Event"] for r in receiver.requests] == ["ticket.updated"]


@pytest.mark.django_db
def test_a_failing_receiver_gets_retries_with_backoff_up_to_the_ceiling(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver(statuses=[500]) as failing, time_machine.travel(START, tick=False) as clock:
        _endpoint(tenant_a, failing.url)
        _open_ticket(tenant_a)
        run_tasks()
        delivery = WebhookDelivery.objects.for_partner(tenant_a.partner).get()
        waits = []
        while delivery.status == WebhookDelivery.Status.RETRYING:
            webhook_retry_due()
            assert run_tasks() == []  # not due yet: nothing is sent early
            waits.append(delivery.next_attempt_at - datetime.datetime.now(datetime.UTC))
            clock.move_to(delivery.next_attempt_at)
            webhook_retry_due()
            run_tasks()
            delivery.refresh_from_db()

    log = list(WebhookAttempt.objects.for_partner(tenant_a.partner).filter(delivery=delivery))
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == settings.WEBHOOK_MAX_ATTEMPTS == 8
    assert len(failing.requests) == 8
    assert [attempt.number for attempt in log] == list(range(1, 9))
    assert {attempt.response_code for attempt in log} == {500}
    assert "500" in delivery.last_error
    assert [wait.total_seconds() for wait in waits] == [30, 60, 120, 240, 480, 960, 1920]


@pytest.mark.django_db
def test_a_receiver_that_recovers_gets_the_delivery_on_the_third_attempt(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver(statuses=[503, 502, 204]) as flaky, time_machine.travel(START) as clock:
        _endpoint(tenant_a, flaky.url)
        _open_ticket(tenant_a)
        run_tasks()
        for _ in range(2):
            clock.shift(datetime.timedelta(hours=1))
            webhook_retry_due()
            run_tasks()

    delivery = WebhookDelivery.objects.for_partner(tenant_a.partner).get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert delivery.response_code == 204
    assert len({r["headers"]["X-CSP-Delivery"] for r in flaky.requests}) == 1


@pytest.mark.django_db
def test_a_network_error_is_retried_and_logged(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver() as closed:
        url = closed.url
    _endpoint(tenant_a, url)

    _open_ticket(tenant_a)
    run_tasks()

    delivery = WebhookDelivery.objects.for_partner(tenant_a.partner).get()
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.response_code is None
    assert "Connection" in delivery.last_error


@pytest.mark.django_db
def test_redelivery_sends_a_failed_delivery_again(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver(statuses=[200]) as up:
        endpoint, _secret = _endpoint(tenant_a, up.url)
        delivery = WebhookDelivery.objects.create(
            partner=tenant_a.partner,
            endpoint=endpoint,
            event="ticket.created",
            payload={"ticket": {"id": 1}},
            status=WebhookDelivery.Status.FAILED,
            attempts=8,
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.webhook_redeliver(delivery=delivery)
        run_tasks()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1
    assert up.requests[0]["headers"]["X-CSP-Delivery"] == str(delivery.uuid)
