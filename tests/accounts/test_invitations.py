"""Invitations: user management admins invite staff, customer admins invite colleagues; the
e-mail goes through the real broker and a real MIME message; a link is used once."""

import pytest
from django.core import mail
from django.urls import reverse

from csp_portal.accounts.models import CustomerContact, Invitation, Membership, Role, User
from tests.tasks import drain_tasks, purge_tasks


def staff_url(name, **kwargs):
    return reverse(name, urlconf="csp_portal.urls_partner", kwargs=kwargs or None)


@pytest.fixture(autouse=True)
def _empty_queue():
    purge_tasks()
    yield
    purge_tasks()


@pytest.mark.django_db
def test_user_admin_invites_staff_and_the_mail_links_to_the_partner_portal(
    tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    client = tenant_a.client(tenant_a.staff[Role.USER_ADMIN].user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            staff_url("staff:team"),
            {"email": "New.Agent@Alpha.example", "roles": [Role.HELPDESK_AGENT]},
        )
    tasks = drain_tasks()

    invitation = Invitation.objects.for_partner(tenant_a.partner).get(
        email="new.agent@alpha.example"
    )
    assert response.status_code == 302
    assert tasks == [
        (
            "csp_portal.accounts.tasks.send_invitation",
            {"partner_id": tenant_a.partner.pk, "invitation_id": invitation.pk},
        )
    ]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.agent@alpha.example"]
    assert tenant_a.partner.display_name in message.subject
    accept_url = tenant_a.partner.portal_url(f"/me/invitations/{invitation.token}/")
    assert accept_url == f"http://localhost:8000/p/alpha/me/invitations/{invitation.token}/"
    assert accept_url in message.body
    assert "roles: Helpdesk agent." in message.body
    assert message.alternatives[0][1] == "text/html"
    assert "Content-Type: multipart/alternative" in message.message().as_string()


@pytest.mark.django_db
def test_invitation_links_ignore_a_forged_host_header(tenant_a, django_capture_on_commit_callbacks):
    client = tenant_a.client(tenant_a.staff[Role.USER_ADMIN].user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            staff_url("staff:team"),
            {"email": "x@alpha.example", "roles": [Role.SALES_AGENT]},
            HTTP_X_FORWARDED_HOST="evil.example",
        )
    drain_tasks()

    assert "evil.example" not in mail.outbox[0].body


@pytest.mark.django_db
def test_helpdesk_agent_cannot_invite_staff(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.HELPDESK_AGENT].user)

    response = client.post(
        staff_url("staff:team"), {"email": "x@alpha.example", "roles": [Role.GLOBAL_ADMIN]}
    )

    assert response.status_code == 403
    assert not Invitation.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_invitation_without_roles_is_refused_and_keeps_the_typed_email(tenant_a):
    client = tenant_a.client(tenant_a.staff[Role.USER_ADMIN].user)

    response = client.post(staff_url("staff:team"), {"email": "typed@alpha.example"})

    assert response.status_code == 400
    assert 'value="typed@alpha.example"' in response.content.decode()
    assert not Invitation.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_new_person_accepts_a_staff_invitation_once(tenant_a):
    invitation = Invitation.objects.create(
        partner=tenant_a.partner, email="joiner@alpha.example", roles=[Role.BILLING_ADMIN]
    )
    client = tenant_a.client()
    form = {
        "full_name": "Jo Iner",
        "password": "a-Long-passphrase-9",
        "password_again": "a-Long-passphrase-9",
    }

    first = client.post(staff_url("accounts:invitation-accept", token=invitation.token), form)
    client.logout()
    second = client.post(staff_url("accounts:invitation-accept", token=invitation.token), form)

    user = User.objects.get(email="joiner@alpha.example")
    membership = Membership.objects.for_partner(tenant_a.partner).get(user=user)
    assert first.status_code == 302
    assert membership.roles == [Role.BILLING_ADMIN]
    assert second.status_code == 302
    assert Membership.objects.for_partner(tenant_a.partner).filter(user=user).count() == 1
    assert user.emailaddress_set.get().verified


@pytest.mark.django_db
def test_customer_admin_invites_a_colleague_who_joins_that_customer(
    tenant_a, django_capture_on_commit_callbacks
):
    client = tenant_a.client(tenant_a.customer_admin.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/company/users/", {"email": "colleague@cust.example", "contact_role": "user"}
        )
    drain_tasks()
    invitation = Invitation.objects.for_partner(tenant_a.partner).get(
        email="colleague@cust.example"
    )
    accept = tenant_a.client().post(
        staff_url("accounts:invitation-accept", token=invitation.token),
        {
            "full_name": "Col League",
            "password": "a-Long-passphrase-9",
            "password_again": "a-Long-passphrase-9",
        },
    )

    contact = CustomerContact.objects.for_partner(tenant_a.partner).get(
        user__email="colleague@cust.example"
    )
    assert response.status_code == 302
    assert accept.status_code == 302
    assert contact.customer == tenant_a.customer
    assert contact.role == "user"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_expired_invitation_is_refused(tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    invitation = Invitation.objects.create(
        partner=tenant_a.partner,
        email="late@alpha.example",
        roles=[Role.SALES_AGENT],
        expires_at=timezone.now() - timedelta(minutes=1),
    )

    tenant_a.client().post(
        staff_url("accounts:invitation-accept", token=invitation.token),
        {
            "full_name": "Late",
            "password": "a-Long-passphrase-9",
            "password_again": "a-Long-passphrase-9",
        },
    )

    assert not User.objects.filter(email="late@alpha.example").exists()
