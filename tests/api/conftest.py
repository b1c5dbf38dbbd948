import pytest
from django.test import Client

from csp_portal.api.models import Scope
from csp_portal.api.services import api_token_create

ALL_SCOPES = list(Scope)


def api_client(partner, key=None) -> Client:
    headers = {"HTTP_HOST": f"{partner.slug}.localhost"}
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return Client(**headers)


def issue(tenant, user, scopes=ALL_SCOPES, **extra):
    token, key = api_token_create(
        partner=tenant.partner,
        name="integration",
        user=user,
        scopes=scopes,
        created_by=tenant.admin.user,
        **extra,
    )
    return token, key


@pytest.fixture
def staff_key(tenant_a):
    return issue(tenant_a, tenant_a.admin.user)[1]


@pytest.fixture
def customer_key(tenant_a):
    return issue(tenant_a, tenant_a.customer_admin.user)[1]
