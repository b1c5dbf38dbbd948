"""factory-boy factories for the tenant data every test needs."""

import factory
from allauth.account.models import EmailAddress

from csp_portal.accounts.models import (
    ContactRole,
    Customer,
    CustomerContact,
    Invitation,
    Membership,
    Partner,
    Role,
    User,
)

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@people.example")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        user.save()
        if create:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    slug = factory.Sequence(lambda n: f"partner{n}")
    display_name = factory.Sequence(lambda n: f"Partner {n}")
    kind = Partner.Kind.DIRECT_BILL
    require_staff_mfa = False
    support_email = factory.LazyAttribute(lambda p: f"support@{p.slug}.example")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    partner = factory.SubFactory(PartnerFactory)
    company_name = factory.Sequence(lambda n: f"Customer {n} B.V.")
    primary_domain = factory.Sequence(lambda n: f"customer{n}.example")
    microsoft_tenant_id = factory.Faker("uuid4", cast_to=None)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    partner = factory.SubFactory(PartnerFactory)
    user = factory.SubFactory(UserFactory)
    roles = factory.LazyFunction(lambda: [Role.GLOBAL_ADMIN])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerContact

    customer = factory.SubFactory(CustomerFactory)
    partner = factory.SelfAttribute("customer.partner")
    user = factory.SubFactory(UserFactory)
    role = ContactRole.USER


class StaffInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    partner = factory.SubFactory(PartnerFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@people.example")
    roles = factory.LazyFunction(lambda: [Role.HELPDESK_AGENT])
