"""The router: which channels a ticket may be escalated through, in order of preference,
each with the reason it applies or not (and, when not, what the partner would need).

A pure function of plain data — no database, no clock — so the agent sees exactly why and a
table-driven test reads every rule. The rules are the `RULES` table below: one row per
channel, a predicate saying whether the channel covers this kind of issue and a check of the
partner's entitlements. Sources: ../shared/partner-center/README.md ("Support channels") and
DESIGN.md ("Escalation to Microsoft").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from django.utils.translation import gettext_lazy as _

from .models import Channel, Delivery, SupportBenefit, SupportContract

CLOUD_PRODUCTS = frozenset({"azure", "dynamics_365", "microsoft_365"})
ON_PREMISES_PRODUCTS = frozenset({"on_premises"})
COMMERCIAL_KINDS = frozenset({"billing", "subscription"})

US_GOVERNMENT = "us_government"
INDIRECT_RESELLER = "indirect_reseller"
# Partner Center for Microsoft Cloud for US Government: no Office 365 (2021 documentation).
US_GOVERNMENT_UNAVAILABLE_PRODUCTS = frozenset({"microsoft_365"})


@dataclass(frozen=True)
class TicketFacts:
    kind: str  # tickets.Ticket.Kind: technical, billing, subscription
    product: str  # tickets.Ticket.Product: azure, dynamics_365, microsoft_365, on_premises, other
    partner_kind: str  # accounts.Partner.Kind
    cloud: str = "commercial"  # accounts.Partner.Cloud
    provider_name: str = ""  # the indirect reseller's provider


@dataclass(frozen=True)
class Contract:
    kind: str  # SupportContract.Kind
    contract_id: str
    valid_from: date
    valid_to: date


@dataclass(frozen=True)
class Benefit:
    kind: str  # SupportBenefit.Kind
    access_id: str
    contract_id: str
    incident_allowance: int | None  # None: unlimited
    incidents_used: int
    renewal_date: date
    is_active: bool = True

    @property
    def incidents_left(self) -> int | None:
        if self.incident_allowance is None:
            return None
        return max(self.incident_allowance - self.incidents_used, 0)


@dataclass(frozen=True)
class Entitlements:
    contracts: Sequence[Contract] = ()
    benefits: Sequence[Benefit] = ()


@dataclass(frozen=True)
class ChannelOption:
    channel: str
    eligible: bool
    reason: str
    need: str = ""  # what the partner would need, when not eligible
    delivery: str = ""  # how it is delivered, when eligible
    contract_id: str = ""
    access_id: str = ""
    incidents_left: int | None = None
    preferred: bool = False

    @property
    def label(self) -> str:
        return str(Channel(self.channel).label)


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reason: str
    need: str = ""
    contract_id: str = ""
    access_id: str = ""
    incidents_left: int | None = None


# -- what a channel covers --------------------------------------------------------------------


def is_indirect_reseller(facts: TicketFacts) -> bool:
    return facts.partner_kind == INDIRECT_RESELLER


def is_commercial(facts: TicketFacts) -> bool:
    return facts.kind in COMMERCIAL_KINDS


def is_technical(facts: TicketFacts) -> bool:
    return facts.kind == "technical"


def is_technical_cloud(facts: TicketFacts) -> bool:
    return is_technical(facts) and facts.product in CLOUD_PRODUCTS


def is_technical_on_premises(facts: TicketFacts) -> bool:
    return is_technical(facts) and facts.product in ON_PREMISES_PRODUCTS


# -- what the partner holds -------------------------------------------------------------------


def always(facts, entitlements, today) -> Verdict:
    return Verdict(True, str(_("Open to every CSP partner.")))


def has_provider(facts, entitlements, today) -> Verdict:
    return Verdict(
        True,
        str(_("An indirect reseller escalates to its indirect provider first: %(name)s."))
        % {"name": facts.provider_name or _("your provider")},
    )


def contract_valid(kind: str) -> Callable[..., Verdict]:
    label = SupportContract.Kind(kind).label

    def check(facts, entitlements, today) -> Verdict:
        held = [c for c in entitlements.contracts if c.kind == kind]
        valid = [c for c in held if c.valid_from <= today <= c.valid_to]
        if valid:
            contract = max(valid, key=lambda c: c.valid_to)
            return Verdict(
                True,
                str(_("%(label)s contract %(id)s is valid until %(until)s."))
                % {"label": label, "id": contract.contract_id, "until": contract.valid_to},
                contract_id=contract.contract_id,
            )
        if held:
            latest = max(held, key=lambda c: c.valid_to)
            if latest.valid_from > today:
                reason = _("%(label)s contract %(id)s starts on %(from)s.")
            else:
                reason = _("%(label)s contract %(id)s expired on %(until)s.")
            return Verdict(
                False,
                str(reason)
                % {
                    "label": label,
                    "id": latest.contract_id,
                    "from": latest.valid_from,
                    "until": latest.valid_to,
                },
                need=str(_("A %(label)s contract valid today.")) % {"label": label},
            )
        return Verdict(
            False,
            str(_("No %(label)s contract is recorded.")) % {"label": label},
            need=str(_("A %(label)s contract (a global admin records it under Entitlements)."))
            % {"label": label},
        )

    return check


def benefit_usable(kind: str) -> Callable[..., Verdict]:
    label = SupportBenefit.Kind(kind).label

    def check(facts, entitlements, today) -> Verdict:
        benefit = next((b for b in entitlements.benefits if b.kind == kind), None)
        if benefit is None:
            return Verdict(
                False,
                str(_("%(label)s is not activated.")) % {"label": label},
                need=str(
                    _(
                        "A global admin activates %(label)s in Partner Center and records its "
                        "access ID and contract ID under Entitlements."
                    )
                )
                % {"label": label},
            )
        if not benefit.is_active or benefit.renewal_date < today:
            return Verdict(
                False,
                str(_("%(label)s lapsed on its renewal date, %(date)s."))
                % {"label": label, "date": benefit.renewal_date},
                need=str(_("Renew %(label)s in Partner Center.")) % {"label": label},
            )
        left = benefit.incidents_left
        if left == 0:
            return Verdict(
                False,
                str(_("All %(allowance)d incidents of %(label)s are used."))
                % {"allowance": benefit.incident_allowance, "label": label},
                need=str(_("More incidents: they renew on %(date)s."))
                % {"date": benefit.renewal_date},
                incidents_left=0,
            )
        if left is None:
            reason = str(_("%(label)s is active, with unlimited incidents.")) % {"label": label}
        else:
            reason = str(_("%(label)s is active, %(left)d of %(allowance)d incidents left.")) % {
                "label": label,
                "left": left,
                "allowance": benefit.incident_allowance,
            }
        return Verdict(
            True,
            reason,
            contract_id=benefit.contract_id,
            access_id=benefit.access_id,
            incidents_left=left,
        )

    return check


# -- the rules, in order of preference -------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    channel: str
    covers: Callable[[TicketFacts], bool]
    not_covered: object  # (lazy) why the channel does not apply to this issue
    check: Callable[[TicketFacts, Entitlements, date], Verdict]
    microsoft: bool = True  # a Microsoft channel (subject to the cloud's limits)
    extra: dict = field(default_factory=dict)


RULES: tuple[Rule, ...] = (
    Rule(
        Channel.INDIRECT_PROVIDER,
        covers=is_indirect_reseller,
        not_covered=_("Only indirect resellers escalate to an indirect provider."),
        check=has_provider,
        microsoft=False,
    ),
    Rule(
        Channel.COMMERCIAL,
        covers=is_commercial,
        not_covered=_("Commercial support handles billing, subscription and account issues."),
        check=always,
    ),
    Rule(
        Channel.PREMIER_UNIFIED,
        covers=is_technical,
        not_covered=_("Premier / Unified handles technical issues."),
        check=contract_valid(SupportContract.Kind.PREMIER_UNIFIED),
    ),
    Rule(
        Channel.ADVANCED_SUPPORT,
        covers=is_technical_cloud,
        not_covered=_("Advanced Support for Partners covers technical issues with cloud products."),
        check=contract_valid(SupportContract.Kind.ADVANCED_SUPPORT),
    ),
    Rule(
        Channel.PARTNER_CLOUD_SUPPORT,
        covers=is_technical_cloud,
        not_covered=_("Partner Cloud Support covers technical issues with cloud products only."),
        check=benefit_usable(SupportBenefit.Kind.PARTNER_CLOUD_SUPPORT),
    ),
    Rule(
        Channel.PARTNER_ONPREMISES_SUPPORT,
        covers=is_technical_on_premises,
        not_covered=_(
            "Partner On-premises Support covers technical issues with current on-premises products."
        ),
        check=benefit_usable(SupportBenefit.Kind.PARTNER_ONPREMISES_SUPPORT),
    ),
)


def cloud_blocks(facts: TicketFacts) -> str:
    """Why the partner's cloud rules out Microsoft's channels for this issue, or ""."""
    if facts.cloud == US_GOVERNMENT and facts.product in US_GOVERNMENT_UNAVAILABLE_PRODUCTS:
        return str(
            _(
                "Partner Center for Microsoft Cloud for US Government offers no Office 365 "
                "(2021 documentation)."
            )
        )
    return ""


def delivery_for(channel: str, facts: TicketFacts) -> str:
    """How an eligible channel is reached. Azure technical issues under Premier / Unified
    become Azure support tickets through the API (it needs a Premier, Unified or Professional
    Direct plan); everything else with Microsoft is filed in Partner Center's web UI (its
    create API was retired in 2020)."""
    if channel == Channel.INDIRECT_PROVIDER:
        return Delivery.PROVIDER
    if channel == Channel.PREMIER_UNIFIED and facts.product == "azure" and is_technical(facts):
        return Delivery.AZURE_API
    return Delivery.PARTNER_CENTER


def route(facts: TicketFacts, entitlements: Entitlements, today: date) -> list[ChannelOption]:
    """Every channel, in order of preference: the ones that cover this issue first (in the
    table's order), then the others. The first eligible one is marked preferred."""
    covered, uncovered = [], []
    blocked = cloud_blocks(facts)
    for rule in RULES:
        if not rule.covers(facts):
            uncovered.append(ChannelOption(rule.channel, False, str(rule.not_covered)))
            continue
        if rule.microsoft and blocked:
            covered.append(
                ChannelOption(
                    rule.channel,
                    False,
                    blocked,
                    need=str(
                        _("Handle it in your own cloud's support, or choose another channel.")
                    ),
                )
            )
            continue
        verdict = rule.check(facts, entitlements, today)
        covered.append(
            ChannelOption(
                rule.channel,
                verdict.eligible,
                verdict.reason,
                need=verdict.need,
                delivery=delivery_for(rule.channel, facts) if verdict.eligible else "",
                contract_id=verdict.contract_id,
                access_id=verdict.access_id,
                incidents_left=verdict.incidents_left,
            )
        )
    options = covered + uncovered
    for index, option in enumerate(options):
        if option.eligible:
            options[index] = replace(option, preferred=True)
            break
    return options


def no_channel_message(options: Sequence[ChannelOption]) -> str:
    """Said plainly when nothing is eligible: what the partner would need."""
    if any(option.eligible for option in options):
        return ""
    needs = [option.need for option in options if option.need]
    message = str(_("No support channel is open to you for this issue."))
    if needs:
        message += " " + str(_("You would need one of: %(needs)s")) % {"needs": " / ".join(needs)}
    return message
