"""The demo data: two partner networks with every role, created once however often it runs."""

from datetime import date

import pytest
from django.core.management import call_command

from csp_portal.accounts.models import Customer, CustomerContact, Membership, Partner, Role
from csp_portal.accounts.tenancy import partner_scope


def _counts():
    return (
        Partner.objects.count(),
        Customer.objects.unscoped().count(),
        Membership.objects.unscoped().count(),
        CustomerContact.objects.unscoped().count(),
    )


@pytest.mark.django_db
def test_seed_demo_creates_both_partner_networks_with_every_role(capsys):
    with partner_scope(None):
        call_command("seed_demo")

    provider = Partner.objects.get(slug="northwind")
    reseller = Partner.objects.get(slug="fabrikam")
    direct = Partner.objects.get(slug="contoso")
    assert direct.kind == Partner.Kind.DIRECT_BILL
    assert provider.kind == Partner.Kind.INDIRECT_PROVIDER
    assert reseller.provider == provider
    for partner in (direct, provider, reseller):
        roles = {r for m in Membership.objects.for_partner(partner) for r in m.roles}
        contact_roles = {c.role for c in CustomerContact.objects.for_partner(partner)}
        assert roles == set(Role)
        assert contact_roles == {"admin", "user"}
    printed = capsys.readouterr().out
    assert "demo-portal-2026" in printed
    assert "admin@contoso.example" in printed


@pytest.mark.django_db
def test_seed_demo_runs_again_without_changing_anything():
    with partner_scope(None):
        call_command("seed_demo", quiet=True)
    first = _counts()

    with partner_scope(None):
        call_command("seed_demo", quiet=True)

    assert _counts() == first
    assert first == (3, 6, 18, 12)


@pytest.mark.django_db
def test_seed_demo_gives_billing_and_escalation_something_to_show():
    from billing.models import CollectionPolicy, Invoice
    from escalation.models import SupportContract

    with partner_scope(None):
        call_command("seed_demo", quiet=True)

    contoso = Partner.objects.get(slug="contoso")
    fabrikam = Partner.objects.get(slug="fabrikam")
    overdue = Invoice.objects.for_partner(contoso).filter(due_date__lt=date.today())
    assert CollectionPolicy.objects.for_partner(contoso).count() == 1
    assert overdue.count() >= 3
    assert SupportContract.objects.for_partner(contoso).filter(kind="premier_unified").exists()
    assert not SupportContract.objects.for_partner(fabrikam).exists()
