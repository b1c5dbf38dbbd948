"""Each staff role reaches exactly the pages the role table in DESIGN.md gives it."""

import pytest
from django.urls import reverse

from csp_portal.accounts.models import Role

GA, UA, AA, HD, BA, SA = (
    Role.GLOBAL_ADMIN,
    Role.USER_ADMIN,
    Role.ADMIN_AGENT,
    Role.HELPDESK_AGENT,
    Role.BILLING_ADMIN,
    Role.SALES_AGENT,
)

# page -> roles that may open it (written out from DESIGN.md, not derived from the code)
STAFF_PAGES = {
    "staff:dashboard": {GA, UA, AA, HD, BA, SA},
    "staff:customer-list": {GA, AA, HD, BA, SA},
    "staff:customer-create": {GA, AA, HD, SA},
    "staff:customer-detail": {GA, AA, HD, BA, SA},
    "staff:customer-edit": {GA, AA, HD, SA},
    "staff:team": {GA, UA},
    "staff:membership-edit": {GA, UA},
    "staff:settings": {GA},
    "staff:support-offering": {GA},
}


def _url(name, tenant):
    kwargs = {}
    if "customer-detail" in name or "customer-edit" in name:
        kwargs["customer_id"] = tenant.customer.pk
    if "membership-edit" in name:
        kwargs["membership_id"] = tenant.staff[Role.SALES_AGENT].pk
    return reverse(name, urlconf="csp_portal.urls_partner", kwargs=kwargs or None)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("page", sorted(STAFF_PAGES))
def test_staff_page_access_follows_the_role_table(tenant_a, tenant_b, role, page):
    client = tenant_a.client(tenant_a.staff[role].user)

    response = client.get(_url(page, tenant_a))

    expected = 200 if role in STAFF_PAGES[page] else 403
    assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(STAFF_PAGES))
def test_customer_users_never_reach_the_staff_workspace(tenant_a, page):
    client = tenant_a.client(tenant_a.customer_admin.user)

    assert client.get(_url(page, tenant_a)).status_code == 404


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in(tenant_a):
    response = tenant_a.client().get(_url("staff:customer-list", tenant_a))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_customer_admin_manages_company_users_but_customer_user_cannot(tenant_a):
    admin_page = tenant_a.client(tenant_a.customer_admin.user).get("/company/users/")
    user_page = tenant_a.client(tenant_a.customer_user.user).get("/company/users/")

    assert admin_page.status_code == 200
    assert user_page.status_code == 403


@pytest.mark.django_db
def test_deactivated_member_loses_the_workspace(tenant_a):
    member = tenant_a.staff[Role.HELPDESK_AGENT]
    member.is_active = False
    member.save()

    response = tenant_a.client(member.user).get(_url("staff:dashboard", tenant_a))

    assert response.status_code == 404


@pytest.mark.django_db
def test_sales_agent_cannot_change_roles(tenant_a):
    target = tenant_a.staff[Role.HELPDESK_AGENT]
    client = tenant_a.client(tenant_a.staff[Role.SALES_AGENT].user)

    response = client.post(
        _url("staff:membership-edit", tenant_a).replace(
            str(tenant_a.staff[Role.SALES_AGENT].pk), str(target.pk)
        ),
        {"roles": [Role.GLOBAL_ADMIN], "is_active": "on"},
    )

    target.refresh_from_db()
    assert response.status_code == 403
    assert target.roles == [Role.HELPDESK_AGENT]


@pytest.mark.django_db
def test_user_admin_changes_roles(tenant_a):
    target = tenant_a.staff[Role.HELPDESK_AGENT]
    client = tenant_a.client(tenant_a.staff[Role.USER_ADMIN].user)

    response = client.post(
        reverse(
            "staff:membership-edit",
            urlconf="csp_portal.urls_partner",
            kwargs={"membership_id": target.pk},
        ),
        {"roles": [Role.HELPDESK_AGENT, Role.BILLING_ADMIN], "is_active": "on"},
    )

    target.refresh_from_db()
    assert response.status_code == 302
    assert target.roles == [Role.HELPDESK_AGENT, Role.BILLING_ADMIN]


@pytest.mark.django_db
def test_last_global_admin_cannot_be_demoted(tenant_a):
    from csp_portal.accounts.models import Membership

    Membership.objects.for_partner(tenant_a.partner).exclude(
        pk=tenant_a.staff[Role.GLOBAL_ADMIN].pk
    ).filter(roles__contains=[Role.GLOBAL_ADMIN]).update(is_active=False)
    only_admin = tenant_a.staff[Role.GLOBAL_ADMIN]
    client = tenant_a.client(tenant_a.staff[Role.USER_ADMIN].user)

    response = client.post(
        reverse(
            "staff:membership-edit",
            urlconf="csp_portal.urls_partner",
            kwargs={"membership_id": only_admin.pk},
        ),
        {"roles": [Role.SALES_AGENT], "is_active": "on"},
    )

    only_admin.refresh_from_db()
    assert response.status_code == 400
    assert "at least one active global admin" in response.content.decode()
    assert only_admin.roles == [Role.GLOBAL_ADMIN]
