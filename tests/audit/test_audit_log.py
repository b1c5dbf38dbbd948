"""The audit log: append-only in PostgreSQL, written by the services that change roles,
people, invitations and API tokens, and shown to global admins only."""

import pytest
from django.db import DatabaseError, connection, transaction

from csp_portal.accounts import services as account_services
from csp_portal.accounts.models import ContactRole, Role
from csp_portal.api import services as api_services
from csp_portal.audit.models import AuditEvent
from csp_portal.audit.services import audit_record
from tests.factories import PASSWORD


def _events(partner, action=None):
    events = AuditEvent.objects.for_partner(partner)
    return events.filter(action=action) if action else events


# -- append-only ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_and_delete_are_rejected_by_the_database_even_for_the_owner(tenant_a):
    event = audit_record(partner=tenant_a.partner, actor=None, action="test.happened")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableowner = current_user FROM pg_tables WHERE tablename = %s",
            ["audit_auditevent"],
        )
        assert cursor.fetchone()[0], "the suite connects as the table's owner"
        for statement in (
            "UPDATE audit_auditevent SET action = 'changed' WHERE id = %s",
            "DELETE FROM audit_auditevent WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute(statement, [event.pk])

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.for_partner(tenant_a.partner).filter(pk=event.pk).update(action="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.for_partner(tenant_a.partner).filter(pk=event.pk).delete()
    assert (
        AuditEvent.objects.for_partner(tenant_a.partner).get(pk=event.pk).action == "test.happened"
    )


@pytest.mark.django_db
def test_the_application_role_cannot_change_events_either(tenant_a, settings):
    event = audit_record(partner=tenant_a.partner, actor=None, action="test.happened")
    role = connection.ops.quote_name(settings.DATABASE_APP_ROLE or "csp_app")

    with connection.cursor() as cursor:
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"SET LOCAL ROLE {role}")
            cursor.execute("SELECT set_config('csp.rls_bypass', 'on', true)")
            cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(f"SET LOCAL ROLE {role}")
            cursor.execute("SELECT set_config('csp.rls_bypass', 'on', true)")
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])


# -- what is recorded -------------------------------------------------------------------------


@pytest.mark.django_db
def test_role_changes_are_recorded_with_before_and_after_and_the_request(tenant_a, tenant_b):
    member = tenant_a.staff[Role.HELPDESK_AGENT]
    client = tenant_a.client(tenant_a.admin.user)

    response = client.post(
        f"/staff/team/{member.pk}/",
        {"roles": [Role.BILLING_ADMIN], "is_active": "on"},
        HTTP_X_REQUEST_ID="req-roles-1",
        REMOTE_ADDR="198.51.100.4",
    )

    assert response.status_code == 302
    event = _events(tenant_a.partner, "membership.updated").get()
    assert event.actor_id == tenant_a.admin.user_id
    assert event.target_type == "accounts.membership" and event.target_id == str(member.pk)
    assert event.data["before"]["roles"] == [Role.HELPDESK_AGENT]
    assert event.data["after"]["roles"] == [Role.BILLING_ADMIN]
    assert event.request_id == "req-roles-1"
    assert event.ip == "198.51.100.4"
    assert not _events(tenant_b.partner).exists()


@pytest.mark.django_db
def test_invitations_are_recorded_from_creation_to_acceptance_and_revocation(tenant_a):
    account_services.invitation_create_staff(
        partner=tenant_a.partner,
        email="z@alpha.example",
        roles=[Role.SALES_AGENT],
        invited_by=tenant_a.admin.user,
    )
    staff = account_services.invitation_create_staff(
        partner=tenant_a.partner,
        email="x@alpha.example",
        roles=[Role.SALES_AGENT],
        invited_by=tenant_a.admin.user,
    )
    contact = account_services.invitation_create_contact(
        partner=tenant_a.partner,
        customer=tenant_a.customer,
        email="y@customer.example",
        contact_role=ContactRole.USER,
        invited_by=tenant_a.admin.user,
    )
    account_services.invitation_accept(
        invitation=staff, user=None, full_name="X", password=PASSWORD
    )
    account_services.invitation_revoke(invitation=contact, acting_user=tenant_a.admin.user)
    account_services.invitation_revoke(invitation=contact, acting_user=tenant_a.admin.user)

    assert _events(tenant_a.partner, "invitation.created").count() == 3
    assert _events(tenant_a.partner, "invitation.accepted").get().data["roles"] == [
        Role.SALES_AGENT
    ]
    revoked = _events(tenant_a.partner, "invitation.revoked").get()  # the second did nothing
    assert revoked.target_id == str(contact.pk)


@pytest.mark.django_db
def test_contact_changes_are_recorded(tenant_a):
    contact = tenant_a.customer_user
    client = tenant_a.client(tenant_a.admin.user)

    client.post(f"/staff/contacts/{contact.pk}/", {"role": ContactRole.ADMIN, "is_active": "on"})

    event = _events(tenant_a.partner, "contact.updated").get()
    assert event.data["before"]["role"] == ContactRole.USER
    assert event.data["after"]["role"] == ContactRole.ADMIN
    assert event.actor_id == tenant_a.admin.user_id


@pytest.mark.django_db
def test_api_tokens_created_and_revoked_are_recorded_without_the_key(tenant_a):
    token, key = api_services.api_token_create(
        partner=tenant_a.partner,
        name="erp",
        user=tenant_a.admin.user,
        scopes=["tickets:read"],
        created_by=tenant_a.admin.user,
    )
    client = tenant_a.client(tenant_a.admin.user)
    client.post(f"/staff/api-tokens/{token.pk}/revoke/")

    created = _events(tenant_a.partner, "api_token.created").get()
    revoked = _events(tenant_a.partner, "api_token.revoked").get()
    assert created.data["scopes"] == ["tickets:read"]
    assert key not in str(created.data)
    assert revoked.actor_id == tenant_a.admin.user_id


@pytest.mark.django_db
def test_mfa_enrolment_is_recorded(tenant_a, django_capture_on_commit_callbacks):
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )
    from django.urls import reverse

    user = tenant_a.staff[Role.HELPDESK_AGENT].user
    client = tenant_a.client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    url = reverse("mfa_activate_totp", urlconf="csp_portal.urls_partner")
    secret = client.get(url).context["form"].secret
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"code": code})

    actions = set(_events(tenant_a.partner).filter(actor=user).values_list("action", flat=True))
    assert "mfa.authenticator_added" in actions


# -- the page ---------------------------------------------------------------------------------


def _seed(tenant, count):
    for n in range(count):
        audit_record(
            partner=tenant.partner, actor=tenant.admin.user, action="test.happened", data={"n": n}
        )


@pytest.mark.django_db
def test_global_admins_see_their_own_partners_events_only(tenant_a, tenant_b):
    _seed(tenant_a, 3)
    _seed(tenant_b, 5)

    response = tenant_a.client(tenant_a.admin.user).get("/staff/audit/")

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.GLOBAL_ADMIN])
def test_other_roles_may_not_read_the_log(tenant_a, role):
    response = tenant_a.client(tenant_a.staff[role].user).get("/staff/audit/")

    assert response.status_code == 403


@pytest.mark.django_db
def test_customers_do_not_reach_the_log(tenant_a):
    assert tenant_a.client(tenant_a.customer_admin.user).get("/staff/audit/").status_code == 404


@pytest.mark.django_db
def test_the_log_filters_by_action_and_who_and_pages(tenant_a):
    _seed(tenant_a, 55)
    audit_record(partner=tenant_a.partner, actor=None, action="api_token.revoked")
    client = tenant_a.client(tenant_a.admin.user)

    by_action = client.get("/staff/audit/", {"action": "api_token.revoked"})
    by_actor = client.get("/staff/audit/", {"actor": tenant_a.admin.user.email})
    second = client.get("/staff/audit/", {"actor": tenant_a.admin.user.email, "page": 2})

    assert by_action.context["page"].paginator.count == 1
    assert by_actor.context["page"].paginator.count == 55
    assert len(second.context["page"].object_list) == 5
    assert "page=1" in second.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
def test_the_page_costs_the_same_queries_at_any_size(
    tenant_a, count, django_assert_max_num_queries
):
    _seed(tenant_a, count)
    client = tenant_a.client(tenant_a.admin.user)
    client.get("/staff/audit/")  # warm the session

    with django_assert_max_num_queries(14):
        response = client.get("/staff/audit/")

    assert len(response.context["page"].object_list) == count
