"""The programme's rules: from one fact, the member's state and the campaigns in force, the
effects to book, each saying why. Pure: no database, no clock, no HTTP; whatever the rules need
comes in as arguments, so the earn's plan step, a simulation over history and a test call the
same function.

The order, defined once:
1. The tier effect, when the fact is a purchase with base points and the member's tier has an
   earn multiplier above 1: it adds (multiplier - 1) x base points, funded by the issuing
   partner or by the network (`Programme.tier_funder`). It is the member's standing benefit, so
   no campaign excludes it and it has no limits or budget.
2. The campaigns whose trigger, partner, window and conditions match, in evaluation order:
   priority descending, then id ascending (campaigns.evaluation_order). A campaign that matches
   but cannot give points (a member limit reached, no budget left, an amount too small to earn
   a point) is listed in `Plan.skipped` with the reason and does not count below.
3. Stacking: if any matching EXCLUSIVE campaign can give points, the first of them in that
   order is the only campaign applied (the others are skipped as EXCLUDED); otherwise every
   matching stackable campaign applies, in order.

Points: integers. Rates and multipliers are Decimal, and each effect is rounded exactly once,
half to even (money.round_half_even), from the exact product: no intermediate rounding, no
floats. Multipliers multiply the base points, never other effects, so effects add and do not
compound. When a campaign names categories or skus, its per-amount and multiplier effects count
only the matching lines: per amount on the matching lines' amount, a multiplier on the base
points times matching amount / purchase amount.

Limits are counts of awards a member had from the campaign in the local day, week and month
containing the fact (see `periods`) and ever, given as `usage`. A budget caps the effect at
the points left (`budget_left`, by campaign id; a campaign absent from it has spent nothing);
the booking step re-checks the budget under a lock, as concurrent earns read the same figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from network.money import currency_exponent, round_half_even
from network.programme import tiers as tier_rules
from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    FixedPoints,
    Multiplier,
    PointsPerAmount,
    sole_funder,
)
from network.programme.facts import (
    BasketLine,
    CustomEvent,
    Fact,
    LifecycleEvent,
    MemberState,
    Purchase,
    Return,
    ScheduledRun,
)
from network.programme.funding import FundedPart, split
from network.programme.index import CampaignIndex
from network.programme.tiers import TierDefinition

EffectKind = Literal["fixed", "per_amount", "multiplier", "tier_multiplier"]
SkipReason = Literal["LIMIT_DAY", "LIMIT_WEEK", "LIMIT_MONTH", "LIMIT_CAMPAIGN",
                     "BUDGET_EXHAUSTED", "NO_POINTS", "EXCLUDED"]
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Programme:
    """The programme-wide settings the rules read."""

    zone: ZoneInfo  # the network's time zone: weekdays, hours and limit periods are local
    network_party_id: int
    tier_funder: Literal["issuer", "network"] = "issuer"
    tiers: tuple[TierDefinition, ...] = tier_rules.DEFINITIONS
    week_starts_on: int = 0  # 0 Monday .. 6 Sunday (5, Saturday, in Iran)
    # Tier code -> earn multiplier, for the tiers whose multiplier is above 1; derived.
    tier_multipliers: Mapping[str, Decimal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tier_funder not in ("issuer", "network"):
            raise ValueError(f"tier_funder is 'issuer' or 'network', got {self.tier_funder!r}")
        if not 0 <= self.week_starts_on <= 6:
            raise ValueError(f"week_starts_on is 0 (Monday) to 6, got {self.week_starts_on!r}")
        tier_rules.check(self.tiers)
        object.__setattr__(self, "tier_multipliers", {
            t.code: t.earn_multiplier for t in self.tiers if t.earn_multiplier > _ONE})


@dataclass(frozen=True, slots=True)
class Usage:
    """How many awards this member has had from one campaign: in the local day, week and month
    containing the fact (`periods`), and since the campaign began."""

    day: int = 0
    week: int = 0
    month: int = 0
    campaign: int = 0


NO_USAGE = Usage()


@dataclass(frozen=True, slots=True)
class Effect:
    """Points the programme adds to a fact, and why: which campaign (or tier) and how, funder by
    funder. The parts sum exactly to `points`; the ledger books one lot per part, issued by
    its party, so settlement bills the funder with no path of its own."""

    source: Literal["campaign", "tier"]
    code: str  # the campaign's or the tier's code
    campaign_id: int | None
    kind: EffectKind
    points: int
    parts: tuple[FundedPart, ...]
    capped: bool = False  # cut down to the campaign's remaining budget


@dataclass(frozen=True, slots=True)
class Skipped:
    """A campaign whose conditions matched but which gave nothing, and why."""

    campaign_id: int
    code: str
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Plan:
    base_points: int
    effects: tuple[Effect, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def total(self) -> int:
        return self.base_points + sum(e.points for e in self.effects)


@dataclass(frozen=True, slots=True)
class Periods:
    """Starts (UTC) of the local day, week and month containing an instant: what `Usage`
    counts from. The store counts with these so limits and rules agree on "today"."""

    day: dt.datetime
    week: dt.datetime
    month: dt.datetime


def periods(at: dt.datetime, programme: Programme) -> Periods:
    local = at.astimezone(programme.zone)
    day = local.date()
    week = day - dt.timedelta(days=(day.weekday() - programme.week_starts_on) % 7)

    def start(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(), programme.zone).astimezone(dt.UTC)

    return Periods(start(day), start(week), start(day.replace(day=1)))


def trigger_of(fact: Fact) -> tuple[str, str]:
    """The (kind, name) key campaigns are indexed by."""
    if isinstance(fact, Purchase):
        return ("purchase", "")
    if isinstance(fact, Return):
        return ("return", "")
    if isinstance(fact, CustomEvent):
        return ("event", fact.type)
    if isinstance(fact, LifecycleEvent):
        return ("lifecycle", fact.kind)
    if isinstance(fact, ScheduledRun):
        return ("schedule", fact.schedule)
    raise TypeError(f"not a programme fact: {fact!r}")


def evaluate(fact: Fact, member: MemberState, campaigns: CampaignIndex, *, base_points: int,
             programme: Programme, usage: Mapping[int, Usage] | None = None,
             budget_left: Mapping[int, int] | None = None) -> Plan:
    """The effects `fact` earns `member` on top of `base_points` (the contract's points for a
    purchase, 0 for anything else), in the order the module docstring defines."""
    if base_points < 0:
        raise ValueError(f"base_points cannot be negative, got {base_points}")
    tier = _tier_effect(fact, member, base_points, programme)
    candidates = campaigns.candidates(trigger_of(fact), getattr(fact, "partner_id", None))
    if not candidates:
        return Plan(base_points, (tier,) if tier else ())
    local = fact.at.astimezone(programme.zone)
    skipped: list[Skipped] = []
    exclusive: Effect | None = None
    stackable: list[tuple[Campaign, Effect]] = []
    for campaign in candidates:
        if not matches(campaign, fact, member, local):
            continue
        effect = _campaign_effect(campaign, fact, base_points, usage, budget_left, skipped)
        if effect is None:
            continue
        if campaign.stacking != "exclusive":
            stackable.append((campaign, effect))
        elif exclusive is None:
            exclusive = effect
        else:
            skipped.append(Skipped(campaign.id, campaign.code, "EXCLUDED"))
    if exclusive is not None:
        skipped.extend(Skipped(c.id, c.code, "EXCLUDED") for c, _ in stackable)
        applied: tuple[Effect, ...] = (exclusive,)
    else:
        applied = tuple(effect for _, effect in stackable)
    effects = ((tier,) if tier else ()) + applied
    return Plan(base_points, effects, tuple(skipped))


def _tier_effect(fact: Fact, member: MemberState, base_points: int,
                 programme: Programme) -> Effect | None:
    if not isinstance(fact, Purchase) or not base_points or member.tier is None:
        return None
    multiplier = programme.tier_multipliers.get(member.tier)
    if multiplier is None:
        return None
    points = round_half_even((multiplier - _ONE) * base_points)
    if points <= 0:
        return None
    funder = (fact.partner_id if programme.tier_funder == "issuer"
              else programme.network_party_id)
    return Effect("tier", member.tier, None, "tier_multiplier", points,
                  split(points, sole_funder(funder)))


def _campaign_effect(campaign: Campaign, fact: Fact, base_points: int,
                     usage: Mapping[int, Usage] | None, budget_left: Mapping[int, int] | None,
                     skipped: list[Skipped]) -> Effect | None:
    """The campaign's effect after its limits and budget, or None (recorded in `skipped`)."""
    reason = _limit_reached(campaign, (usage or {}).get(campaign.id, NO_USAGE))
    points = 0 if reason else _points(campaign, fact, base_points)
    budget = campaign.limits.budget_points
    left = None if budget is None else (budget_left or {}).get(campaign.id, budget)
    if reason is None and left is not None and left <= 0:
        reason = "BUDGET_EXHAUSTED"
    elif reason is None and points <= 0:
        reason = "NO_POINTS"
    if reason is not None:
        skipped.append(Skipped(campaign.id, campaign.code, reason))
        return None
    capped = left is not None and points > left
    if left is not None and capped:
        points = left
    return Effect("campaign", campaign.code, campaign.id, _KINDS[type(campaign.effect)], points,
                  split(points, campaign.funder), capped)


_KINDS: dict[type, EffectKind] = {FixedPoints: "fixed", PointsPerAmount: "per_amount",
                                  Multiplier: "multiplier"}


def _limit_reached(campaign: Campaign, used: Usage) -> SkipReason | None:
    limits = campaign.limits
    if limits.per_member_day is not None and used.day >= limits.per_member_day:
        return "LIMIT_DAY"
    if limits.per_member_week is not None and used.week >= limits.per_member_week:
        return "LIMIT_WEEK"
    if limits.per_member_month is not None and used.month >= limits.per_member_month:
        return "LIMIT_MONTH"
    if limits.per_member_campaign is not None and used.campaign >= limits.per_member_campaign:
        return "LIMIT_CAMPAIGN"
    return None


def _points(campaign: Campaign, fact: Fact, base_points: int) -> int:
    """The effect's points before limits and budget, rounded once, half to even."""
    effect = campaign.effect
    if isinstance(effect, FixedPoints):
        return effect.points
    if not isinstance(fact, (Purchase, Return)):
        return 0  # validation keeps amount-based effects to sales triggers
    qualifying = qualifying_amount(campaign, fact)
    if isinstance(effect, PointsPerAmount):
        major = Decimal(qualifying).scaleb(-currency_exponent(fact.amount.currency))
        return round_half_even(major * effect.rate)
    if isinstance(effect, Multiplier) and isinstance(fact, Purchase):
        total = fact.amount.amount_minor
        extra = (effect.factor - _ONE) * base_points
        if qualifying != total and total > 0:
            # Exact: Decimal multiplies integers and short decimals exactly, and the one
            # division's 28 significant digits cannot move a value across a half-point.
            extra = extra * qualifying / total
        return round_half_even(extra)
    return 0


def qualifying_amount(campaign: Campaign, fact: Purchase | Return) -> int:
    """Minor units the campaign's amount-based effect counts: the matching basket lines when it
    names categories or skus, else the whole amount."""
    conditions = campaign.conditions
    if conditions.categories is None and conditions.skus is None:
        return fact.amount.amount_minor
    return sum(line.amount_minor for line in fact.lines if _line_matches(campaign, line))


def _line_matches(campaign: Campaign, line: BasketLine) -> bool:
    categories, skus = campaign.conditions.categories, campaign.conditions.skus
    return ((categories is not None and line.category in categories)
            or (skus is not None and line.sku in skus))


def matches(campaign: Campaign, fact: Fact, member: MemberState, local: dt.datetime) -> bool:
    """Whether the campaign's window and conditions hold for the fact (its trigger and partner
    already chosen by the index). `local` is the fact's time in the network's zone."""
    k = campaign.conditions
    if not campaign.in_window(fact.at):
        return False
    if k.partners is not None and getattr(fact, "partner_id", None) not in k.partners:
        return False
    if k.tiers is not None and member.tier not in k.tiers:
        return False
    if k.segments is not None and k.segments.isdisjoint(member.segments):
        return False
    if k.weekdays is not None and local.weekday() not in k.weekdays:
        return False
    if k.hours is not None and not k.hours.contains(local.time()):
        return False
    if isinstance(fact, (Purchase, Return)):
        if k.channels is not None and fact.channel not in k.channels:
            return False
        amount = fact.amount.amount_minor
        if k.min_amount_minor is not None and amount < k.min_amount_minor:
            return False
        if k.max_amount_minor is not None and amount > k.max_amount_minor:
            return False
        if (k.categories is not None or k.skus is not None) and not any(
                _line_matches(campaign, line) for line in fact.lines):
            return False
    elif (k.channels is not None or k.min_amount_minor is not None
          or k.max_amount_minor is not None or k.categories is not None or k.skus is not None):
        return False  # sales conditions never hold for a fact that is not a sale
    if k.first_at_partner and not (isinstance(fact, Purchase) and fact.first_at_partner):
        return False
    if k.attributes:
        attributes = getattr(fact, "attributes", None)
        if attributes is None or not all(_attribute_holds(a, attributes) for a in k.attributes):
            return False
    return True


def _attribute_holds(condition: AttributeCondition, attributes: Mapping[str, object]) -> bool:
    if condition.key not in attributes:
        return False
    value = attributes[condition.key]
    # True == 1 in Python; an attribute `true` must not match one_of {1}, nor 1 match {True}.
    if condition.one_of is not None and not any(
            v == value and _is_bool(v) == _is_bool(value) for v in condition.one_of):
        return False
    if condition.at_least is None and condition.at_most is None:
        return True
    if _is_bool(value) or not isinstance(value, (int, Decimal)):
        return False  # a bound needs a number; "5" or True are not one
    number = Decimal(value)
    return ((condition.at_least is None or number >= condition.at_least)
            and (condition.at_most is None or number <= condition.at_most))


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)
