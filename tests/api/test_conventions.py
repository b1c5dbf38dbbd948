"""One error format, cursor pagination, rate limits, idempotent creates, the schema."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from csp_portal.accounts.models import Customer
from tests.api.conftest import api_client, issue

NEW_CUSTOMER = {
    "company_name": "Fourth Coffee",
    "country": "NL",
    "language": "en",
    "status": "active",
}


def _post(client, body, **headers):
    return client.post("/api/v1/customers/", body, content_type="application/json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ('{"company_name": "x",', 400, None),
        ('{"company_name": 5, "country": "Netherlands"}', 400, "country"),
        ('{"company_name": "x", "country": "NL", "colour": "red"}', 400, "colour"),
        ('{"company_name": "", "country": "NL"}', 400, "company_name"),
        ("[1, 2]", 400, None),
    ],
)
def test_bad_input_gets_a_problem_document_and_writes_nothing(
    tenant_a, staff_key, body, status, field
):
    response = _post(api_client(tenant_a.partner, staff_key), body)

    problem = response.json()
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert problem["status"] == status
    assert problem["title"]
    assert field is None or field in problem["errors"]
    assert Customer.objects.for_partner(tenant_a.partner).count() == 3


@pytest.mark.django_db
def test_a_huge_payload_is_refused_with_413(tenant_a, staff_key, settings):
    settings.API_MAX_BODY_BYTES = 1000

    response = _post(
        api_client(tenant_a.partner, staff_key), {**NEW_CUSTOMER, "company_name": "x" * 5000}
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert Customer.objects.for_partner(tenant_a.partner).count() == 3


@pytest.mark.django_db
def test_cursor_pagination_walks_every_row_once_and_a_bad_cursor_is_a_404_problem(
    tenant_a, staff_key
):
    client = api_client(tenant_a.partner, staff_key)

    first = client.get("/api/v1/customers/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    bad = client.get("/api/v1/customers/", {"cursor": "not-a-cursor"})

    seen = [c["id"] for c in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 3
    assert second["next"] is None
    assert bad.status_code == 404
    assert bad["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_rate_limit_answers_429_with_retry_after(tenant_a):
    _, key = issue(tenant_a, tenant_a.admin.user, rate_limit_per_minute=3)
    client = api_client(tenant_a.partner, key)

    codes = [client.get("/api/v1/customers/").status_code for _ in range(4)]
    limited = client.get("/api/v1/customers/")

    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_retried_create_returns_the_first_result_and_creates_nothing_twice(tenant_a, staff_key):
    client = api_client(tenant_a.partner, staff_key)

    first = _post(client, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="create-fourth-coffee")
    again = _post(client, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="create-fourth-coffee")
    different = _post(
        client,
        {**NEW_CUSTOMER, "company_name": "Other"},
        HTTP_IDEMPOTENCY_KEY="create-fourth-coffee",
    )

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert different.status_code == 422
    assert (
        Customer.objects.for_partner(tenant_a.partner).filter(company_name="Fourth Coffee").count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_the_same_create_sent_concurrently_makes_one_object(tenant_a, staff_key):
    results = []
    barrier = threading.Barrier(4)

    def send():
        client = api_client(tenant_a.partner, staff_key)
        barrier.wait()
        try:
            results.append(_post(client, NEW_CUSTOMER, HTTP_IDEMPOTENCY_KEY="concurrent-key"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in results) == [201] * 4
    assert len({r.json()["id"] for r in results}) == 1
    assert (
        Customer.objects.for_partner(tenant_a.partner).filter(company_name="Fourth Coffee").count()
        == 1
    )


def test_the_openapi_schema_is_valid_and_documents_every_route():
    schema = SchemaGenerator(urlconf=settings.PARTNER_URLCONF).get_schema(request=None, public=True)

    validate_schema(schema)
    paths = set(schema["paths"])
    assert {"/api/v1/customers/", "/api/v1/tickets/", "/api/v1/tickets/{id}/messages/"} <= paths
    assert "apiToken" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_schema_and_docs_are_served_on_the_partner_portal(tenant_a, staff_key):
    client = api_client(tenant_a.partner, staff_key)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/v1/tickets/" in schema.json()["paths"]
    assert docs.status_code == 200
    assert "swagger" in docs.content.decode().lower()
    assert "//cdn" not in docs.content.decode()
