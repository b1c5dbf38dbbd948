"""The portal shell: the public support offering, branding, customers, health, admin."""

import io
import os
import subprocess
import sys
from datetime import date, time
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from csp_portal.accounts.models import (
    ContactMethod,
    Customer,
    Holiday,
    Role,
    ServiceHours,
    SupportPlan,
)
from tests.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def offering(tenant_a, tenant_b):
    partner = tenant_a.partner
    SupportPlan.objects.create(
        partner=partner,
        name="Gold care",
        price=Decimal("12.50"),
        currency="EUR",
        price_unit="per_user_month",
    )
    SupportPlan.objects.create(partner=tenant_b.partner, name="Bravo plan")
    ServiceHours.objects.create(partner=partner, weekday=0, opens=time(8, 30), closes=time(17, 0))
    Holiday.objects.create(partner=partner, date=date(2026, 12, 25), name="Christmas Day")
    Holiday.objects.create(partner=partner, date=date(2026, 1, 1), name="Past New Year")
    ContactMethod.objects.create(partner=partner, channel="phone", value="+31 20 555 0100")
    return tenant_a


@pytest.mark.django_db
@time_machine.travel("2026-11-26 10:00Z", tick=False)
def test_support_offering_page_states_plans_prices_hours_holidays_and_contacts(offering):
    page = offering.client().get("/support/").content.decode()

    assert "Gold care" in page
    assert "12.50" in page
    assert "08:30" in page
    assert "Christmas Day" in page
    assert "Past New Year" not in page
    assert "+31 20 555 0100" in page
    assert "Bravo plan" not in page
    assert "Europe/Amsterdam" in page


@pytest.mark.django_db
def test_brand_colour_and_name_are_applied(tenant_a):
    tenant_a.partner.primary_colour = "#123456"
    tenant_a.partner.save()

    page = tenant_a.client().get("/").content.decode()

    assert "--brand: #123456" in page
    assert tenant_a.partner.display_name in page


@pytest.mark.django_db
def test_global_admin_uploads_a_png_logo_served_by_the_portal(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)
    form = _settings_form(tenant_a.partner, primary_colour="#aa0000")
    form["logo"] = _upload("logo.png", PNG)

    response = client.post("/staff/settings/", form)
    logo = tenant_a.client().get("/branding/logo")

    tenant_a.partner.refresh_from_db()
    assert response.status_code == 302
    assert tenant_a.partner.primary_colour == "#aa0000"
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("logo", ("logo.svg", b"<svg onload='alert(1)'/>"), "PNG or JPEG"),
        ("primary_colour", "red; background:url(x)", "#0a5cad"),
    ],
)
def test_bad_branding_is_refused_and_nothing_changes(tenant_a, field, value, message):
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)
    form = _settings_form(tenant_a.partner, display_name="Renamed")
    form[field] = _upload(*value) if field == "logo" else value

    response = client.post("/staff/settings/", form)

    tenant_a.partner.refresh_from_db()
    assert response.status_code == 400
    assert message in response.content.decode()
    assert tenant_a.partner.display_name == "Alpha"
    assert not tenant_a.partner.logo


@pytest.mark.django_db
def test_helpdesk_agent_creates_and_edits_a_customer(tenant_a, tenant_b):
    client = tenant_a.client(tenant_a.staff[Role.HELPDESK_AGENT].user)
    data = {
        "company_name": "New Co",
        "primary_domain": "newco.example",
        "microsoft_tenant_id": "",
        "billing_email": "ap@newco.example",
        "country": "be",
        "language": "nl",
        "status": "active",
    }

    created = client.post("/staff/customers/new/", data)
    customer = Customer.objects.for_partner(tenant_a.partner).get(company_name="New Co")
    edited = client.post(
        f"/staff/customers/{customer.pk}/edit/", {**data, "company_name": "New Co Ltd"}
    )

    customer.refresh_from_db()
    assert created.status_code == 302
    assert edited.status_code == 302
    assert customer.company_name == "New Co Ltd"
    assert customer.country == "BE"
    assert Customer.objects.for_partner(tenant_b.partner).count() == 5


@pytest.mark.django_db
def test_bad_customer_input_names_the_field_and_keeps_what_was_typed(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.HELPDESK_AGENT].user)

    response = client.post(
        "/staff/customers/new/",
        {
            "company_name": "Typed Co",
            "country": "N1",
            "language": "nl",
            "status": "active",
        },
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "two-letter country code" in page
    assert 'value="Typed Co"' in page
    assert (
        not Customer.objects.for_partner(tenant_a.partner).filter(company_name="Typed Co").exists()
    )


@pytest.mark.django_db
def test_customer_search_finds_by_name_within_the_partner(tenant_a, tenant_b):
    client = tenant_a.client(tenant_a.staff[Role.SALES_AGENT].user)

    page = client.get("/staff/customers/", {"q": tenant_a.customer.company_name})

    assert [c.pk for c in page.context["page"].object_list] == [tenant_a.customer.pk]


@pytest.mark.django_db
def test_customer_home_shows_the_company(tenant_a):
    page = tenant_a.client(tenant_a.customer_user.user).get("/")

    assert page.status_code == 200
    assert tenant_a.customer.company_name in page.content.decode()


@pytest.mark.django_db
def test_readiness_checks_postgresql_and_redis():
    response = Client(HTTP_HOST="localhost").get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"postgresql": "ok", "redis": "ok", "outbox": "ok"}


@pytest.mark.django_db
def test_platform_operator_admin_reads_across_partners(tenant_a, tenant_b):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)

    response = client.get("/admin/accounts/customer/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 8


@pytest.mark.django_db
def test_partner_staff_cannot_use_the_platform_admin(tenant_a):
    client = Client(HTTP_HOST="localhost")
    client.force_login(tenant_a.admin.user)

    response = client.get("/admin/accounts/customer/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_microsoft_sign_in_is_configured_from_the_environment():
    env = {
        **os.environ,
        "MICROSOFT_CLIENT_ID": "client-123",
        "MICROSOFT_CLIENT_SECRET": "s3cret",
        "MICROSOFT_TENANT": "contoso.example",
    }
    code = "from django.conf import settings; import django; django.setup(); print(settings.SOCIALACCOUNT_PROVIDERS['microsoft']['APPS'][0]['settings']['tenant'])"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.stdout.strip() == "contoso.example"


def _upload(name, content):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def _settings_form(partner, **overrides):
    data = {
        "display_name": partner.display_name,
        "primary_colour": partner.primary_colour,
        "time_zone": partner.time_zone,
        "default_language": partner.default_language,
        "support_email": partner.support_email,
        "support_phone": partner.support_phone,
        "support_summary": partner.support_summary,
    }
    data.update(overrides)
    return data


def _offering_post(partner, **rows):
    """A formset POST with every management form; `rows` adds forms to one formset."""
    data = {}
    for prefix in ("plans", "hours", "holidays", "contacts"):
        forms = rows.get(prefix, [])
        data[f"{prefix}-TOTAL_FORMS"] = str(len(forms))
        data[f"{prefix}-INITIAL_FORMS"] = str(sum(1 for form in forms if "id" in form))
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
        for index, form in enumerate(forms):
            for key, value in form.items():
                data[f"{prefix}-{index}-{key}"] = value
    return data


@pytest.mark.django_db
def test_global_admin_publishes_the_support_offering(tenant_a, tenant_b):
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)
    data = _offering_post(
        tenant_a.partner,
        plans=[
            {
                "name": "Care+",
                "description": "",
                "covers_technical": "on",
                "price": "9.99",
                "currency": "EUR",
                "price_unit": "per_month",
                "position": "1",
            }
        ],
        hours=[{"weekday": "2", "opens": "09:00", "closes": "17:00"}],
        holidays=[{"date": "2026-12-31", "name": "New Year's Eve"}],
        contacts=[{"channel": "email", "value": "help@alpha.example", "note": "", "position": "1"}],
    )

    response = client.post("/staff/settings/support-offering/", data)
    page = tenant_a.client().get("/support/").content.decode()

    assert response.status_code == 302
    assert SupportPlan.objects.for_partner(tenant_a.partner).get().price == Decimal("9.99")
    assert SupportPlan.objects.for_partner(tenant_b.partner).count() == 0
    assert "Care+" in page
    assert "help@alpha.example" in page


@pytest.mark.django_db
def test_a_bad_row_saves_nothing_and_says_what_was_wrong(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)
    data = _offering_post(
        tenant_a.partner,
        plans=[
            {
                "name": "Care+",
                "price": "-5",
                "currency": "eur",
                "price_unit": "per_month",
                "position": "1",
            }
        ],
        hours=[{"weekday": "2", "opens": "09:00", "closes": "17:00"}],
    )

    response = client.post("/staff/settings/support-offering/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "three-letter ISO 4217 code" in page
    assert "greater than or equal to 0" in page
    assert not SupportPlan.objects.for_partner(tenant_a.partner).exists()
    assert not ServiceHours.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_another_partners_row_cannot_be_edited_through_the_formset(tenant_a, tenant_b):
    foreign = SupportPlan.objects.create(partner=tenant_b.partner, name="Bravo plan")
    client = tenant_a.client(tenant_a.staff[Role.GLOBAL_ADMIN].user)
    data = _offering_post(
        tenant_a.partner,
        plans=[
            {
                "id": str(foreign.pk),
                "name": "Hijacked",
                "price": "0",
                "currency": "EUR",
                "price_unit": "included",
                "position": "1",
            }
        ],
    )

    response = client.post("/staff/settings/support-offering/", data)

    foreign.refresh_from_db()
    assert response.status_code == 400
    assert foreign.name == "Bravo plan"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.HELPDESK_AGENT, Role.USER_ADMIN, Role.BILLING_ADMIN])
def test_only_global_admins_edit_the_support_offering(tenant_a, role):
    client = tenant_a.client(tenant_a.staff[role].user)

    response = client.post("/staff/settings/support-offering/", _offering_post(tenant_a.partner))

    assert response.status_code == 403


@pytest.mark.django_db
def test_the_customer_list_pages_keep_the_search_and_the_filter(tenant_a):
    from tests.factories import CustomerFactory

    CustomerFactory.create_batch(30, partner=tenant_a.partner, company_name="Contoso Branch")
    client = tenant_a.client(tenant_a.admin.user)

    page = client.get("/staff/customers/?q=branch&status=active").content.decode()

    assert 'href="?q=branch&amp;status=active&amp;page=2"' in page
    assert 'aria-label="Pages of customers"' in page
