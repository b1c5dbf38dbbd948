"""Drill: Partner Center answers 429 and 5xx, or too slowly, while the sweep suspends.

tests/billing/test_partner_center.py already covers the client's retry on 429 (Retry-After)
and 503 and a documented refusal; this adds, against the Microsoft stub (which can be told to
fail or to answer slowly), the suspension task's side: a timed-out call is retried with the
same MS-RequestId and applied once; a run of 5xx beyond every retry (the client's, then the
task's) leaves the suspension failed with the error on the billing admin's page and nothing
patched, and the admin's retry applies it once."""

from __future__ import annotations

import pytest
from django.test import TestCase

from billing import services
from billing.models import Subscription, Suspension
from billing.tasks import suspension_sync
from csp_portal.accounts.models import Role
from escalation.stub import MicrosoftStub
from tests.billing.conftest import run_tasks
from tests.factories.billing import SuspensionFactory
from tests.tasks import purge_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def microsoft(settings):
    stub = MicrosoftStub("127.0.0.1", 0).start()
    settings.PARTNER_CENTER_BASE_URL = stub.url
    settings.PARTNER_CENTER_ACCESS_TOKEN = "drill-token"
    settings.PARTNER_CENTER_BACKOFF_SECONDS = 0.01
    settings.PARTNER_CENTER_MAX_WAIT_SECONDS = 0.05
    settings.PARTNER_CENTER_TIMEOUT_SECONDS = 0.5
    purge_tasks()
    yield stub
    stub.stop()
    purge_tasks()


def _requested(tenant):
    return SuspensionFactory(
        subscription__customer=tenant.customer,
        reason=Suspension.Reason.NON_PAYMENT,
        state=Suspension.State.REQUESTED,
    )


def _sync(suspension):
    with TestCase.captureOnCommitCallbacks(execute=True):
        suspension_sync.delay(partner_id=suspension.partner_id, suspension_id=suspension.pk)
    run_tasks()
    suspension.refresh_from_db()


def test_a_timed_out_call_is_retried_with_the_same_request_id_and_applied_once(
    tenant_a, tenant_b, microsoft
):
    suspension = _requested(tenant_a)
    _requested(tenant_b)
    microsoft.slow(2.0, count=1, path="/subscriptions/")  # longer than the client waits

    _sync(suspension)

    assert suspension.state == Suspension.State.APPLIED
    calls = microsoft.requests_to(f"/subscriptions/{suspension.subscription.partner_center_id}")
    patches = [call for call in calls if call[0] == "PATCH"]
    assert len(patches) == 1
    request_ids = {
        {k.lower(): v for k, v in headers.items()}["ms-requestid"] for _m, _p, headers in calls
    }
    assert request_ids == {str(suspension.request_id)}
    assert len(calls) >= 3  # the GET that timed out, the GET again, the PATCH


def test_5xx_beyond_every_retry_is_shown_to_the_admin_then_applied_once(
    tenant_a, tenant_b, microsoft
):
    suspension = _requested(tenant_a)
    _requested(tenant_b)
    microsoft.fail(500, count=1000, path="/subscriptions/")

    # The task and every retry Celery schedules for it (apply() runs the retries at once,
    # instead of after their countdowns), each run with the client's own retries.
    kwargs = {"partner_id": suspension.partner_id, "suspension_id": suspension.pk}
    suspension_sync.apply(kwargs=kwargs, throw=False)
    suspension.refresh_from_db()
    assert suspension.state == Suspension.State.FAILED
    assert suspension.attempts == suspension_sync.max_retries + 1
    assert "500" in suspension.last_error
    page = tenant_a.client(tenant_a.staff[Role.BILLING_ADMIN].user).get(
        f"/staff/billing/customers/{tenant_a.customer.pk}/"
    )
    assert page.status_code == 200
    assert b"Partner Center answered 500" in page.content
    assert microsoft.requests_to("/subscriptions/", "PATCH") == []

    microsoft.state.faults.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.suspension_retry(suspension=suspension, acting_user=tenant_a.admin.user)
    run_tasks()

    suspension.refresh_from_db()
    assert suspension.state == Suspension.State.APPLIED
    assert len(microsoft.requests_to("/subscriptions/", "PATCH")) == 1
    suspension.subscription.refresh_from_db()
    assert suspension.subscription.status == Subscription.Status.SUSPENDED
