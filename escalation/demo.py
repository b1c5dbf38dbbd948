"""Demo support entitlements for `seed_demo`: the direct-bill partner holds a Premier/Unified
contract and both programme benefits, the indirect provider Advanced Support and Partner Cloud
Support; the reseller holds none (it escalates to its provider)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from csp_portal.accounts.models import Partner

from .models import SupportBenefit, SupportContract


def seed(*, partner, customers) -> None:
    if partner.kind == Partner.Kind.INDIRECT_RESELLER:
        return
    if (
        SupportContract.objects.for_partner(partner).exists()
        or SupportBenefit.objects.for_partner(partner).exists()
    ):
        return
    today = timezone.localdate(timezone=partner.tz)
    kind = (
        SupportContract.Kind.PREMIER_UNIFIED
        if partner.kind == Partner.Kind.DIRECT_BILL
        else SupportContract.Kind.ADVANCED_SUPPORT
    )
    SupportContract.objects.create(
        partner=partner,
        kind=kind,
        contract_id=f"{partner.slug.upper()}-{kind[:3].upper()}-2026",
        valid_from=today - timedelta(days=90),
        valid_to=today + timedelta(days=275),
    )
    SupportBenefit.objects.create(
        partner=partner,
        kind=SupportBenefit.Kind.PARTNER_CLOUD_SUPPORT,
        access_id=f"{partner.slug}-pcs-access",
        contract_id=f"{partner.slug}-pcs-contract",
        incident_allowance=10,
        renewal_date=today + timedelta(days=180),
    )
    if partner.kind == Partner.Kind.DIRECT_BILL:
        SupportBenefit.objects.create(
            partner=partner,
            kind=SupportBenefit.Kind.PARTNER_ONPREMISES_SUPPORT,
            access_id=f"{partner.slug}-pos-access",
            contract_id=f"{partner.slug}-pos-contract",
            incident_allowance=20,
            renewal_date=today + timedelta(days=180),
        )
