"""The Partner Center client against a real local HTTP server in the samples' shapes:
status PATCH with the etag, retries on 429 (Retry-After) and 5xx, clear errors otherwise."""

import uuid

import pytest
from django.test import TestCase

from billing.models import Subscription, Suspension
from billing.partner_center import PartnerCenterClient, PartnerCenterError
from tests.billing.conftest import run_tasks
from tests.factories.billing import SuspensionFactory

TENANT = "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04"
SUB = "a356ac8c-e310-44f4-bf85-c7f29044af99"


def test_suspend_patches_the_full_subscription_with_its_etag(partner_center):
    partner_center.add_subscription(TENANT, SUB)
    request_id = uuid.uuid4()

    PartnerCenterClient().subscription_set_status(
        customer_tenant_id=TENANT, subscription_id=SUB, status="suspended", request_id=request_id
    )

    get, patch = partner_center.requests
    assert patch["method"] == "PATCH"
    assert patch["path"] == f"/v1/customers/{TENANT}/subscriptions/{SUB}"
    assert patch["headers"]["if-match"] == f"etag-{SUB}-1"
    assert patch["headers"]["ms-requestid"] == get["headers"]["ms-requestid"] == str(request_id)
    assert patch["headers"]["ms-correlationid"] != get["headers"]["ms-correlationid"]
    assert patch["body"]["Status"] == "suspended"
    assert patch["body"]["OfferId"] == "MS-AZR-0145P"
    assert patch["body"]["Attributes"]["Etag"] == f"etag-{SUB}-1"
    assert partner_center.status_of(TENANT, SUB) == "suspended"


def test_a_subscription_already_in_the_status_is_not_patched(partner_center):
    partner_center.add_subscription(TENANT, SUB, status="suspended")

    PartnerCenterClient().subscription_set_status(
        customer_tenant_id=TENANT, subscription_id=SUB, status="suspended", request_id=uuid.uuid4()
    )

    assert partner_center.patches() == []


def test_throttling_waits_for_retry_after_then_succeeds(partner_center):
    partner_center.add_subscription(TENANT, SUB)
    partner_center.failures = [
        (429, {"code": "429", "description": "Rate limit is exceeded"}, {"Retry-After": "0.02"}),
        (503, {"code": "503", "description": "Service unavailable"}, {}),
    ]
    client = PartnerCenterClient()

    client.subscription_set_status(
        customer_tenant_id=TENANT, subscription_id=SUB, status="suspended", request_id=uuid.uuid4()
    )

    assert client.waits == [0.02, 0.02]
    assert partner_center.status_of(TENANT, SUB) == "suspended"
    assert len({r["headers"]["ms-requestid"] for r in partner_center.requests}) == 1


def test_a_documented_refusal_is_raised_with_its_code(partner_center):
    partner_center.add_subscription(TENANT, SUB)
    partner_center.failures = [
        (403, {"code": 900115, "description": "Azure plan has active subscriptions"}, {})
    ]

    with pytest.raises(PartnerCenterError) as error:
        PartnerCenterClient().subscription_get(
            customer_tenant_id=TENANT, subscription_id=SUB, request_id=uuid.uuid4()
        )

    assert error.value.status == 403
    assert error.value.code == "900115"
    assert not error.value.is_transient


@pytest.mark.django_db
@pytest.mark.usefixtures("empty_queue")
def test_a_refused_suspension_is_recorded_as_failed_with_the_error(
    tenant_a, tenant_b, partner_center
):
    suspension = SuspensionFactory(
        subscription__customer=tenant_a.customer, state=Suspension.State.REQUESTED
    )
    SuspensionFactory(subscription__customer=tenant_b.customer, state=Suspension.State.REQUESTED)
    partner_center.add_subscription(
        tenant_a.customer.microsoft_tenant_id, suspension.subscription.partner_center_id
    )
    partner_center.failures = [
        (403, {"code": 900115, "description": "Active Azure subscriptions"}, {})
    ]

    from billing.tasks import suspension_sync

    with TestCase.captureOnCommitCallbacks(execute=True):
        suspension_sync.delay(partner_id=tenant_a.partner.pk, suspension_id=suspension.pk)
    run_tasks()

    suspension.refresh_from_db()
    assert suspension.state == Suspension.State.FAILED
    assert "900115" in suspension.last_error
    assert suspension.attempts == 1
    assert suspension.subscription.status == Subscription.Status.ACTIVE
