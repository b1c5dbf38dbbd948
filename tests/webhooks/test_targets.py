"""No SSRF: targets on private, loopback, link-local or reserved addresses are refused, when
registered and again when sent (the connection goes to the address that was checked)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase

from csp_portal.webhooks import services, targets
from csp_portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.webhooks.conftest import Receiver, run_tasks
from tickets.services import ticket_create


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "https://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://localhost:8080/hook",
        "ftp://hooks.example/hook",
        "http://user:pass@hooks.example/hook",
        "http://host.invalid/hook",
    ],
)
def test_private_and_odd_targets_are_refused(tenant_a, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(ValidationError) as refused:
        services.webhook_endpoint_create(
            partner=tenant_a.partner, url=url, events=["ticket.created"]
        )

    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.for_partner(tenant_a.partner).exists()


def test_a_public_address_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    target = targets.resolve("https://93.184.216.34:8443/in?x=1")

    assert (target.address, target.port, target.path) == ("93.184.216.34", 8443, "/in?x=1")


@pytest.mark.django_db
def test_a_target_that_became_private_is_refused_at_send_time(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver() as inside:
        services.webhook_endpoint_create(
            partner=tenant_a.partner, url=inside.url, events=["ticket.created"]
        )
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
        with TestCase.captureOnCommitCallbacks(execute=True):
            ticket_create(
                partner=tenant_a.partner,
                customer=tenant_a.customer,
                requester=tenant_a.customer_user.user,
                kind="technical",
                product="other",
                subject="Hello",
                body="Hello",
            )
        run_tasks()

    delivery = WebhookDelivery.objects.for_partner(tenant_a.partner).get()
    assert inside.requests == []
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "private or reserved" in delivery.last_error


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver() as local:
        port = local.server.server_address[1]
        status, _answer = targets.post(
            f"http://localhost:{port}/hooks/csp", body=b"{}", headers={}, timeout=5
        )

    assert status == 200
    assert local.requests[0]["headers"]["Host"] == f"localhost:{port}"
