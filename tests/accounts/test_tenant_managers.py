"""An unscoped query of tenant data is hard to write: it raises before it reaches SQL."""

import pytest
from django.http import Http404

from csp_portal.accounts.models import Customer, Membership
from csp_portal.accounts.tenancy import UnscopedQueryError, get_for_partner_or_404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        lambda: list(Customer.objects.all()),
        lambda: Customer.objects.filter(company_name__startswith="C").count(),
        lambda: Customer.objects.exists(),
        lambda: Customer.objects.first(),
        lambda: Customer.objects.get(pk=1),
        lambda: Customer.objects.update(status="inactive"),
        lambda: Customer.objects.all().delete(),
        lambda: list(Customer.objects.values_list("pk", flat=True)),
        lambda: list(Membership.objects.iterator()),
    ],
)
def test_unscoped_queries_raise(partner_a, partner_b, query):
    with pytest.raises(UnscopedQueryError):
        query()


@pytest.mark.django_db
def test_scoped_queries_see_one_partner(partner_a, partner_b):
    assert Customer.objects.for_partner(partner_a).count() == 3
    assert Customer.objects.for_partner(partner_b).count() == 5
    assert Customer.objects.unscoped().count() == 8


@pytest.mark.django_db
def test_a_partner_checked_by_row_sees_the_same_rows(partner_a, partner_b):
    by_row = Customer.objects.for_partner_by_row(partner_a)

    assert sorted(by_row.values_list("pk", flat=True)) == sorted(
        Customer.objects.for_partner(partner_a).values_list("pk", flat=True)
    )
    assert Customer.objects.for_partner_by_row(partner_b.pk).count() == 5
    assert '("accounts_customer"."partner_id" + 0) =' in str(by_row.query)
    with pytest.raises(UnscopedQueryError):
        Customer.objects.for_partner_by_row(None)


@pytest.mark.django_db
def test_related_managers_are_scoped_through_their_parent(tenant_a, tenant_b):
    assert tenant_a.customer.contacts.count() == 2
    assert sorted(c.pk for c in tenant_a.customer.contacts.all()) == sorted(
        [tenant_a.customer_admin.pk, tenant_a.customer_user.pk]
    )


@pytest.mark.django_db
def test_scoped_getter_answers_the_same_404_for_missing_and_foreign(tenant_a, tenant_b):
    with pytest.raises(Http404) as foreign:
        get_for_partner_or_404(Customer, tenant_a.partner, pk=tenant_b.customer.pk)
    with pytest.raises(Http404) as missing:
        get_for_partner_or_404(Customer, tenant_a.partner, pk=10**9)

    assert str(foreign.value) == str(missing.value)
    assert (
        get_for_partner_or_404(Customer, tenant_a.partner, pk=tenant_a.customer.pk)
        == tenant_a.customer
    )


@pytest.mark.django_db
def test_the_viewers_membership_and_contact_are_each_partners_own(
    partner_a, partner_b, django_assert_num_queries
):
    from csp_portal.accounts.models import Customer
    from csp_portal.accounts.selectors import contact_for, membership_for
    from tests.factories import ContactFactory, MembershipFactory, UserFactory

    person = UserFactory()
    in_a = MembershipFactory(partner=partner_a, user=person, roles=["helpdesk_agent"])
    MembershipFactory(partner=partner_b, user=person, roles=["global_admin"], is_active=False)
    customer_b = Customer.objects.for_partner(partner_b).first()
    contact_b = ContactFactory(customer=customer_b, user=person)
    gone = Customer.objects.for_partner(partner_a).first()
    ContactFactory(customer=gone, user=person)
    Customer.objects.for_partner(partner_a).filter(pk=gone.pk).update(
        status=Customer.Status.INACTIVE
    )

    with django_assert_num_queries(1):
        membership = membership_for(partner=partner_a, user=person)
        assert membership.partner is partner_a  # carried, not read
    assert membership.pk == in_a.pk and membership.roles == ["helpdesk_agent"]
    assert membership_for(partner=partner_b, user=person) is None  # inactive there
    with django_assert_num_queries(1):
        contact = contact_for(partner=partner_b, user=person)
        assert contact.customer.company_name == customer_b.company_name
    assert contact.pk == contact_b.pk
    assert contact_for(partner=partner_a, user=person) is None  # the customer left
    assert membership_for(partner=partner_a.pk, user=UserFactory()) is None
