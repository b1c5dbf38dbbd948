"""No API view lets an anonymous caller in by default: the walk covers every route of the API
URLconf, so a new endpoint is checked without anyone remembering."""

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

# Views that describe the API and hold no data (the OpenAPI schema and its documentation page).
PUBLIC_BY_DESIGN = {"api-schema", "api-docs"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _api_views():
    for route, entry in _walk(get_resolver(settings.PARTNER_URLCONF).url_patterns):
        view_class = getattr(entry.callback, "cls", None) or getattr(
            entry.callback, "view_class", None
        )
        if route.startswith("api/") and view_class and issubclass(view_class, APIView):
            yield route, entry.name, view_class


def test_the_default_permission_is_not_allow_any():
    defaults = settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]

    assert defaults
    assert "rest_framework.permissions.AllowAny" not in defaults


def test_the_walk_finds_the_api():
    assert len(list(_api_views())) >= 8


@pytest.mark.parametrize(("route", "name", "view_class"), list(_api_views()))
def test_no_api_view_allows_anyone(route, name, view_class):
    if name in PUBLIC_BY_DESIGN:
        pytest.skip("describes the API, holds no data")
    permissions = view_class().get_permissions()

    assert permissions
    assert not any(isinstance(permission, AllowAny) for permission in permissions)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/customers/", "/api/v1/contacts/", "/api/v1/tickets/"])
def test_anonymous_calls_are_refused(tenant_a, path):
    response = tenant_a.client().get(path)

    assert response.status_code in (401, 403)
