"""Erasing a customer's personal data: its people pseudonymised and deactivated unless they
have another role somewhere, nothing else touched, and the erasure audited."""

import pytest
from allauth.account.models import EmailAddress

from csp_portal.accounts.models import ContactRole, Customer, CustomerContact, User
from csp_portal.audit.models import AuditEvent
from tests.factories import PASSWORD, ContactFactory, MembershipFactory

ERASE = "/staff/customers/{}/privacy/erase/"


def _erase(tenant, confirm=None):
    customer = tenant.customer
    return tenant.client(tenant.admin.user).post(
        ERASE.format(customer.pk), {"confirm_name": confirm or customer.company_name}
    )


@pytest.mark.django_db
def test_contacts_are_pseudonymised_and_can_no_longer_sign_in(tenant_a, tenant_b):
    CustomerContact.objects.for_partner(tenant_a.partner).filter(
        pk=tenant_a.customer_user.pk
    ).update(phone="+31 20 123 4567")
    person = tenant_a.customer_user.user
    original_email = person.email

    response = _erase(tenant_a)

    person.refresh_from_db()
    contact = CustomerContact.objects.for_partner(tenant_a.partner).get(
        pk=tenant_a.customer_user.pk
    )
    assert response.status_code == 302
    assert person.email.endswith("@erased.invalid") and person.email != original_email
    assert person.full_name.startswith("Erased person")
    assert not person.is_active and not person.has_usable_password()
    assert not EmailAddress.objects.filter(user=person).exists()
    assert contact.phone == "" and not contact.is_active
    login = tenant_a.client().post(
        "/accounts/login/", {"login": original_email, "password": PASSWORD}
    )
    assert "_auth_user_id" not in login.client.session


@pytest.mark.django_db
def test_a_person_with_another_role_keeps_their_account(tenant_a, tenant_b):
    shared = tenant_a.customer_admin.user
    MembershipFactory(partner=tenant_b.partner, user=shared, roles=["helpdesk_agent"])

    _erase(tenant_a)

    shared.refresh_from_db()
    contact = CustomerContact.objects.for_partner(tenant_a.partner).get(
        pk=tenant_a.customer_admin.pk
    )
    assert shared.is_active and not shared.email.endswith("@erased.invalid")
    assert not contact.is_active


@pytest.mark.django_db
def test_other_customers_and_partners_are_untouched(tenant_a, tenant_b):
    other_person = ContactFactory(customer=tenant_a.other_customers[0], role=ContactRole.USER).user
    before_b = list(
        User.objects.filter(customer_contacts__partner=tenant_b.partner).values_list(
            "email", "is_active"
        )
    )

    _erase(tenant_a)

    other_person.refresh_from_db()
    assert other_person.is_active and not other_person.email.endswith("@erased.invalid")
    assert (
        list(
            User.objects.filter(customer_contacts__partner=tenant_b.partner).values_list(
                "email", "is_active"
            )
        )
        == before_b
    )
    assert (
        Customer.objects.for_partner(tenant_a.partner).get(pk=tenant_a.customer.pk).company_name
        == tenant_a.customer.company_name
    )


@pytest.mark.django_db
def test_the_erasure_is_audited_without_personal_data(tenant_a):
    email = tenant_a.customer_user.user.email

    _erase(tenant_a)

    event = AuditEvent.objects.for_partner(tenant_a.partner).get(
        action="customer.personal_data_erased"
    )
    assert event.actor_id == tenant_a.admin.user_id
    assert event.target_id == str(tenant_a.customer.pk)
    assert event.data["people_pseudonymised"] == 2
    assert email not in str(event.data)


@pytest.mark.django_db
def test_a_wrong_confirmation_changes_nothing(tenant_a):
    response = _erase(tenant_a, confirm="Not the name")

    assert response.status_code == 400
    assert tenant_a.customer_user.user.__class__.objects.get(
        pk=tenant_a.customer_user.user.pk
    ).is_active
    assert not AuditEvent.objects.for_partner(tenant_a.partner).exists()


@pytest.mark.django_db
def test_another_partners_customer_cannot_be_erased(tenant_a, tenant_b):
    response = tenant_a.client(tenant_a.admin.user).post(
        ERASE.format(tenant_b.customer.pk), {"confirm_name": tenant_b.customer.company_name}
    )

    assert response.status_code == 404
    assert User.objects.get(pk=tenant_b.customer_user.user.pk).is_active
