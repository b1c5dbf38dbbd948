"""The router, rule by rule: a table of (situation, expected channel verdicts). Every rule of
escalation.routing.RULES is read by at least one row (the last test checks that)."""

from datetime import date

import pytest

from escalation.models import Channel, Delivery
from escalation.routing import (
    RULES,
    Benefit,
    Contract,
    Entitlements,
    TicketFacts,
    no_channel_message,
    route,
)

TODAY = date(2025, 6, 15)
PREMIER = Contract("premier_unified", "PRM-1", date(2025, 1, 1), date(2025, 12, 31))
PREMIER_EXPIRED = Contract("premier_unified", "PRM-0", date(2024, 1, 1), date(2025, 6, 14))
PREMIER_FUTURE = Contract("premier_unified", "PRM-2", date(2025, 7, 1), date(2026, 6, 30))
ADVANCED = Contract("advanced_support", "ASP-1", date(2025, 1, 1), date(2025, 6, 15))
CLOUD = Benefit("partner_cloud_support", "ACC-1", "CON-1", 5, 2, date(2025, 9, 30))
CLOUD_UNLIMITED = Benefit("partner_cloud_support", "ACC-1", "CON-1", None, 40, date(2025, 9, 30))
CLOUD_USED_UP = Benefit("partner_cloud_support", "ACC-1", "CON-1", 5, 5, date(2025, 9, 30))
CLOUD_LAPSED = Benefit("partner_cloud_support", "ACC-1", "CON-1", 5, 0, date(2025, 6, 14))
CLOUD_INACTIVE = Benefit("partner_cloud_support", "ACC-1", "CON-1", 5, 0, date(2025, 9, 30), False)
ONPREM = Benefit("partner_onpremises_support", "ACC-2", "CON-2", 10, 9, date(2025, 9, 30))
ONPREM_USED_UP = Benefit("partner_onpremises_support", "ACC-2", "CON-2", 10, 10, date(2025, 9, 30))


def facts(kind="technical", product="azure", partner_kind="direct_bill", cloud="commercial"):
    return TicketFacts(
        kind=kind,
        product=product,
        partner_kind=partner_kind,
        cloud=cloud,
        provider_name="Provider Ltd" if partner_kind == "indirect_reseller" else "",
    )


P, A, C, ONPREM_CH = (
    Channel.PREMIER_UNIFIED,
    Channel.ADVANCED_SUPPORT,
    Channel.PARTNER_CLOUD_SUPPORT,
    Channel.PARTNER_ONPREMISES_SUPPORT,
)
COM, PROV = Channel.COMMERCIAL, Channel.INDIRECT_PROVIDER

# (id, facts, contracts, benefits, preferred channel or None, eligible channels in order,
#  a phrase the reason of the first listed ineligible channel contains)
CASES = [
    ("commercial-billing", facts("billing"), [], [], COM, [COM], None),
    ("commercial-subscription", facts("subscription", "microsoft_365"), [], [], COM, [COM], None),
    ("cloud-premier", facts(), [PREMIER], [], P, [P], None),
    ("cloud-advanced-valid-last-day", facts(product="dynamics_365"), [ADVANCED], [], A, [A], None),
    ("cloud-benefit", facts(product="microsoft_365"), [], [CLOUD], C, [C], None),
    ("cloud-benefit-unlimited", facts(), [], [CLOUD_UNLIMITED], C, [C], None),
    ("cloud-all-paid-first", facts(), [PREMIER, ADVANCED], [CLOUD], P, [P, A, C], None),
    ("cloud-expired-contract", facts(), [PREMIER_EXPIRED], [], None, [], "expired on 2025-06-14"),
    ("cloud-contract-not-started", facts(), [PREMIER_FUTURE], [], None, [], "starts on 2025-07-01"),
    ("cloud-incidents-used-up", facts(), [], [CLOUD_USED_UP], None, [], "No Premier"),
    ("cloud-benefit-lapsed", facts(), [], [CLOUD_LAPSED], None, [], "No Premier"),
    ("cloud-benefit-not-activated", facts(), [], [CLOUD_INACTIVE], None, [], "No Premier"),
    ("cloud-nothing", facts(), [], [], None, [], "No Premier"),
    ("onprem-premier", facts(product="on_premises"), [PREMIER], [ONPREM], P, [P, ONPREM_CH], None),
    ("onprem-benefit-last-incident", facts(product="on_premises"), [], [ONPREM], ONPREM_CH, [ONPREM_CH], None),
    ("onprem-used-up", facts(product="on_premises"), [], [ONPREM_USED_UP], None, [], "No Premier"),
    ("onprem-cloud-benefit-does-not-apply", facts(product="on_premises"), [ADVANCED], [CLOUD], None, [], "No Premier"),
    ("other-product-premier-only", facts(product="other"), [PREMIER], [CLOUD], P, [P], None),
    ("reseller-provider-first", facts(partner_kind="indirect_reseller"), [PREMIER], [], PROV, [PROV, P], None),
    ("reseller-provider-commercial", facts("billing", partner_kind="indirect_reseller"), [], [], PROV, [PROV, COM], None),
    ("usgov-office365-blocked", facts(product="microsoft_365", cloud="us_government"), [PREMIER], [CLOUD], None, [], "no Office 365"),
    ("usgov-office365-billing-blocked", facts("billing", "microsoft_365", cloud="us_government"), [], [], None, [], "no Office 365"),
    ("usgov-azure-allowed", facts(cloud="us_government"), [PREMIER], [], P, [P], None),
    ("usgov-reseller-office365-provider", facts(product="microsoft_365", partner_kind="indirect_reseller", cloud="us_government"), [PREMIER], [], PROV, [PROV], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts_", "contracts", "benefits", "preferred", "eligible", "phrase"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_route(facts_, contracts, benefits, preferred, eligible, phrase):
    options = route(facts_, Entitlements(contracts, benefits), TODAY)

    assert [o.channel for o in options if o.eligible] == eligible
    assert next((o.channel for o in options if o.preferred), None) == preferred
    assert sorted(o.channel for o in options) == sorted(Channel.values)
    assert all(o.reason for o in options)
    if phrase:
        first_refused = next(o for o in options if not o.eligible and o.need)
        assert phrase in first_refused.reason


def test_no_channel_is_said_plainly_with_what_would_be_needed():
    options = route(facts(), Entitlements([PREMIER_EXPIRED], [CLOUD_USED_UP]), TODAY)

    message = no_channel_message(options)

    assert message.startswith("No support channel is open to you for this issue.")
    assert "valid today" in message and "renew on 2025-09-30" in message


def test_an_eligible_channel_carries_its_ids_and_how_it_is_delivered():
    options = route(facts(), Entitlements([PREMIER], [CLOUD]), TODAY)
    premier, cloud = options[0], options[2]

    assert (premier.contract_id, premier.delivery) == ("PRM-1", Delivery.AZURE_API)
    assert (cloud.contract_id, cloud.access_id, cloud.incidents_left) == ("CON-1", "ACC-1", 3)
    assert cloud.delivery == Delivery.PARTNER_CENTER
    assert no_channel_message(options) == ""


def test_reseller_escalation_to_provider_is_a_provider_hand_off():
    options = route(facts(partner_kind="indirect_reseller"), Entitlements(), TODAY)

    assert options[0].delivery == Delivery.PROVIDER
    assert "Provider Ltd" in options[0].reason


def test_uncovered_channels_come_last_and_say_why():
    options = route(facts("billing"), Entitlements([PREMIER], [CLOUD]), TODAY)

    assert options[0].channel == COM
    assert not any(o.eligible for o in options[1:])
    assert "technical" in options[1].reason.lower() or "indirect" in options[1].reason.lower()


def test_every_rule_is_read_by_the_table():
    preferred = {case[4] for case in CASES}
    eligible = {channel for case in CASES for channel in case[5]}

    assert {rule.channel for rule in RULES} <= preferred | eligible
