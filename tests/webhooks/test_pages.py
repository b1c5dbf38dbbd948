"""The global admin's webhooks page: register (secret shown once), see deliveries, redeliver;
a partner never sees another's endpoints or deliveries."""

import pytest

from csp_portal.accounts.models import Role
from csp_portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.tasks import drain_tasks


@pytest.mark.django_db
def test_a_global_admin_registers_an_endpoint_and_sees_the_secret_once(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)

    created = client.post(
        "/staff/webhooks/",
        {"url": "https://93.184.216.34/csp", "events": ["ticket.created", "invoice.overdue"]},
    )
    later = client.get("/staff/webhooks/")

    endpoint = WebhookEndpoint.objects.for_partner(tenant_a.partner).get()
    assert created.status_code == 200
    assert endpoint.secret in created.content.decode()
    assert endpoint.secret not in later.content.decode()
    assert endpoint.events == ["invoice.overdue", "ticket.created"]


@pytest.mark.django_db
def test_a_private_target_is_refused_on_the_page(tenant_a, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client = tenant_a.client(tenant_a.admin.user)

    response = client.post(
        "/staff/webhooks/",
        {"url": "http://169.254.169.254/latest/", "events": ["ticket.created"]},
    )

    assert response.status_code == 400
    assert "private or reserved" in response.content.decode()
    assert not WebhookEndpoint.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.HELPDESK_AGENT, Role.USER_ADMIN])
def test_only_global_admins_manage_webhooks(tenant_a, role):
    client = tenant_a.client(tenant_a.staff[role].user)

    assert client.get("/staff/webhooks/").status_code == 403
    assert (
        client.post(
            f"/staff/webhooks/deliveries/{tenant_a.webhook_delivery.pk}/redeliver/"
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_a_partner_never_sees_another_partners_endpoints_or_deliveries(tenant_a, tenant_b):
    own = tenant_a.webhook_delivery
    foreign = tenant_b.webhook_delivery
    client = tenant_a.client(tenant_a.admin.user)

    page = client.get("/staff/webhooks/").content.decode()
    detail = client.get(f"/staff/webhooks/{foreign.endpoint_id}/")
    redeliver = client.post(f"/staff/webhooks/deliveries/{foreign.pk}/redeliver/")

    foreign.refresh_from_db()
    assert own.endpoint.url in page
    assert foreign.endpoint.url not in page
    assert detail.status_code == 404
    assert redeliver.status_code == 404
    assert foreign.status == WebhookDelivery.Status.FAILED


@pytest.mark.django_db
def test_redeliver_from_the_page_queues_the_delivery(tenant_a, django_capture_on_commit_callbacks):
    delivery = tenant_a.webhook_delivery
    client = tenant_a.client(tenant_a.admin.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/webhooks/deliveries/{delivery.pk}/redeliver/")
    detail = client.get(f"/staff/webhooks/{delivery.endpoint_id}/")

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert [name for name, _kwargs in drain_tasks(run=False)] == [
        "csp_portal.webhooks.tasks.webhook_deliver"
    ]
    assert detail.status_code == 200
