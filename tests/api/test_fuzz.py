"""The API fuzzed against its own OpenAPI schema (schemathesis): with a staff token and a
customer token, no request answers 5xx and every response conforms to the schema.
FUZZ_EXAMPLES bounds the examples per operation (small in `make test`)."""

import json
import os

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi import checks as openapi_checks

from tests.api.conftest import issue
from tests.conftest import Tenant

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))

_raw = SchemaGenerator(urlconf=settings.PARTNER_URLCONF).get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(_raw)))
schema.app = get_wsgi_application()

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def in_test_transaction():
    """Serve WSGI requests inside the test's transaction, as Django's test client does: the
    handler must not close the connection between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_keys(db, in_test_transaction):
    tenant = Tenant("fuzzco", extra_customers=1)
    tenant.ticket  # noqa: B018 - one ticket with a message to read
    # Billing rows to read: an invoice with a line, a payment, a policy, a suspension, an inquiry.
    tenant.reminder, tenant.payment, tenant.suspension, tenant.billing_inquiry  # noqa: B018
    return {
        "staff": issue(tenant, tenant.admin.user, rate_limit_per_minute=100_000)[1],
        "customer": issue(tenant, tenant.customer_admin.user, rate_limit_per_minute=100_000)[1],
    }


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, fuzz_keys):
    for key in fuzz_keys.values():
        case.call_and_validate(
            base_url="http://fuzzco.localhost",
            headers={"Authorization": f"Bearer {key}"},
            checks=CHECKS,
        )
