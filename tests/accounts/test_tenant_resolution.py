"""Which partner a request belongs to: host, verified custom domain, /p/<slug>/ fallback."""

import pytest
from django.test import Client

from tests.conftest import portal_client


@pytest.mark.django_db
def test_partner_subdomain_serves_that_partners_portal(partner_a, partner_b):
    response = portal_client(partner_a).get("/support/")

    assert response.status_code == 200
    assert response.context["partner"] == partner_a
    assert partner_a.display_name in response.content.decode()
    assert partner_b.display_name not in response.content.decode()


@pytest.mark.django_db
def test_verified_custom_domain_serves_the_partner(partner_a):
    partner_a.custom_domain = "support.alpha-it.example"
    partner_a.custom_domain_verified = True
    partner_a.save()

    response = Client(HTTP_HOST="support.alpha-it.example").get("/support/")

    assert response.status_code == 200
    assert response.context["partner"] == partner_a


@pytest.mark.django_db
def test_unverified_custom_domain_answers_404(partner_a):
    partner_a.custom_domain = "support.alpha-it.example"
    partner_a.save()

    response = Client(HTTP_HOST="support.alpha-it.example").get("/support/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_path_fallback_on_localhost_prefixes_links(partner_a):
    response = Client(HTTP_HOST="localhost:8000").get(f"/p/{partner_a.slug}/support/")

    assert response.status_code == 200
    assert response.context["partner"] == partner_a
    assert f'href="/p/{partner_a.slug}/accounts/login/' in response.content.decode()


@pytest.mark.django_db
def test_path_fallback_redirects_keep_the_prefix(partner_a):
    response = Client(HTTP_HOST="localhost").get(f"/p/{partner_a.slug}/staff/customers/")

    assert response.status_code == 302
    assert response["Location"].startswith(f"/p/{partner_a.slug}/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("unknown.localhost", "/"),
        ("evil.example", "/"),
        ("localhost", "/p/unknown/"),
        ("localhost", "/p/UPPER/"),
        ("localhost", "/p/../"),
    ],
)
def test_unknown_host_or_slug_answers_a_404_page(partner_a, host, path):
    response = Client(HTTP_HOST=host).get(path)

    assert response.status_code == 404
    assert partner_a.display_name not in response.content.decode()


@pytest.mark.django_db
def test_inactive_partner_answers_404(partner_a):
    partner_a.is_active = False
    partner_a.save()

    assert portal_client(partner_a).get("/").status_code == 404


@pytest.mark.django_db
def test_platform_host_serves_the_platform_page(partner_a):
    response = Client(HTTP_HOST="localhost").get("/")

    assert response.status_code == 200
    assert response.context["partner"] is None


@pytest.mark.django_db
def test_script_prefix_does_not_leak_into_the_next_request(partner_a):
    client = Client(HTTP_HOST="localhost")
    client.get(f"/p/{partner_a.slug}/support/")

    response = portal_client(partner_a).get("/support/")

    assert 'href="/accounts/login/' in response.content.decode()
