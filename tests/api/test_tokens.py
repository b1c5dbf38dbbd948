"""API tokens: shown once, stored hashed, scoped, expiring, revocable, per partner."""

from datetime import timedelta

import pytest
from django.utils import timezone

from csp_portal.accounts.models import Role
from csp_portal.api.models import ApiToken, Scope, hash_key
from tests.api.conftest import api_client, issue


@pytest.mark.django_db
def test_a_token_is_stored_only_as_its_hash_and_authenticates(tenant_a, tenant_b):
    token, key = issue(tenant_a, tenant_a.admin.user)

    response = api_client(tenant_a.partner, key).get("/api/v1/customers/")

    token.refresh_from_db()
    assert key not in (token.prefix, token.key_hash)
    assert token.key_hash == hash_key(key)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    assert token.last_used_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    ["Bearer csp_nothere_secret", "Bearer not-a-token", "Bearer csp_a_b_c", "Basic dXNlcjpwYXNz"],
)
def test_bad_credentials_answer_401_problem(tenant_a, authorization):
    response = api_client(tenant_a.partner).get(
        "/api/v1/customers/", HTTP_AUTHORIZATION=authorization
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


@pytest.mark.django_db
def test_a_token_works_only_on_its_own_partners_portal(tenant_a, tenant_b):
    _, key = issue(tenant_a, tenant_a.admin.user)

    response = api_client(tenant_b.partner, key).get("/api/v1/customers/")

    assert response.status_code == 401


@pytest.mark.django_db
def test_revoked_and_expired_tokens_are_refused(tenant_a):
    revoked, revoked_key = issue(tenant_a, tenant_a.admin.user)
    revoked.revoked_at = timezone.now()
    revoked.save()
    expired, expired_key = issue(
        tenant_a, tenant_a.admin.user, expires_at=timezone.now() + timedelta(seconds=1)
    )
    ApiToken.objects.for_partner(tenant_a.partner).filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert api_client(tenant_a.partner, revoked_key).get("/api/v1/customers/").status_code == 401
    assert api_client(tenant_a.partner, expired_key).get("/api/v1/customers/").status_code == 401


@pytest.mark.django_db
def test_a_token_without_the_scope_is_refused_and_nothing_is_written(tenant_a):
    _, key = issue(tenant_a, tenant_a.admin.user, scopes=[Scope.CUSTOMERS_READ])

    response = api_client(tenant_a.partner, key).post(
        "/api/v1/customers/",
        {"company_name": "X", "country": "NL"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert "customers:write" in response.json()["detail"]
    assert (
        tenant_a.partner
        and not tenant_a.customer.__class__.objects.for_partner(tenant_a.partner)
        .filter(company_name="X")
        .exists()
    )


@pytest.mark.django_db
def test_a_token_never_exceeds_its_persons_roles(tenant_a):
    _, key = issue(tenant_a, tenant_a.staff[Role.SALES_AGENT].user)

    response = api_client(tenant_a.partner, key).get("/api/v1/tickets/")
    write = api_client(tenant_a.partner, key).post(
        "/api/v1/tickets/",
        {
            "customer": tenant_a.customer.pk,
            "subject": "s",
            "body": "b",
            "kind": "technical",
            "product": "azure",
        },
        content_type="application/json",
    )

    assert response.status_code == 200
    assert write.status_code == 403


@pytest.mark.django_db
def test_global_admin_issues_a_token_shown_once_and_revokes_it(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)

    created = client.post(
        "/staff/api-tokens/",
        {
            "name": "PSA sync",
            "user": tenant_a.staff[Role.HELPDESK_AGENT].user.pk,
            "scopes": [Scope.TICKETS_READ],
            "rate_limit_per_minute": 60,
        },
    )
    token = ApiToken.objects.for_partner(tenant_a.partner).get(name="PSA sync")
    key = created.context["new_key"]
    listing = client.get("/staff/api-tokens/").content.decode()
    works = api_client(tenant_a.partner, key).get("/api/v1/tickets/").status_code
    client.post(f"/staff/api-tokens/{token.pk}/revoke/")
    after = api_client(tenant_a.partner, key).get("/api/v1/tickets/").status_code

    assert created.status_code == 200
    assert key in created.content.decode()
    assert key not in listing
    assert works == 200
    assert after == 401


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.USER_ADMIN, Role.HELPDESK_AGENT, Role.BILLING_ADMIN])
def test_only_global_admins_manage_tokens(tenant_a, role):
    response = tenant_a.client(tenant_a.staff[role].user).get("/staff/api-tokens/")

    assert response.status_code == 403


@pytest.mark.django_db
def test_a_token_cannot_act_as_someone_of_another_partner(tenant_a, tenant_b):
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)

    response = client.post(
        "/staff/api-tokens/",
        {
            "name": "x",
            "user": tenant_b.admin.user.pk,
            "scopes": [Scope.TICKETS_READ],
            "rate_limit_per_minute": 60,
        },
    )

    assert response.status_code == 400
    assert not ApiToken.objects.for_partner(tenant_a.partner).exists()
