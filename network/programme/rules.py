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
half to even, from the exact value: the Decimal becomes an exact integer ratio and the effect is
one integer division (`half_even_div`, the same rule as money.round_half_even, without Decimal's
cost on every earn), so nothing is rounded in between and nothing is a float. Multipliers
multiply the base points, never other effects, so effects add and do not compound. When a
campaign names categories or skus, its per-amount and multiplier effects count only the matching
lines: per amount on the matching lines' amount, a multiplier on the base points times matching
amount / purchase amount.

A campaign that issues a reward (IssueReward) is worth the reward's price P in points: whole,
never capped (a budget with less than P left skips it), and skipped with a REWARD_* reason when
the reward's offer says the member cannot have it now (network/programme/reward_grants.py).
A campaign that gives lottery entries (LotteryEntries) gives no points: its effect carries the
entries, and its member limits and budget count entries.

Limits are counts of awards a member had from the campaign in the local day, week and month
containing the fact (see `periods`) and ever, given as `usage`. A budget caps the effect at
the points left (`budget_left`, by campaign id; a campaign absent from it has spent nothing);
the booking step re-checks the budget under a lock, as concurrent earns read the same figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from network.money import currency_exponent
from network.programme import ladder
from network.programme.campaigns import (
    Campaign,
    FixedPoints,
    IssueReward,
    LotteryEntries,
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
from network.programme.matching import compile_matcher, line_matcher
from network.programme.tiers import TierDefinition

EffectKind = Literal["fixed", "per_amount", "multiplier", "tier_multiplier", "reward",
                     "entries"]
# Why a catalog item a campaign would give (a reward, a draw's entries) cannot be given to this
# member now (ItemOffer).
ItemSkip = Literal["REWARD_UNKNOWN", "REWARD_NOT_VISIBLE", "REWARD_NOT_ON_SALE",
                   "REWARD_LIMIT", "REWARD_OUT_OF_STOCK", "MEMBER_BLOCKED", "DRAW_CLOSED",
                   "DRAW_LIMIT"]
SkipReason = Literal["LIMIT_DAY", "LIMIT_WEEK", "LIMIT_MONTH", "LIMIT_CAMPAIGN",
                     "BUDGET_EXHAUSTED", "NO_POINTS", "EXCLUDED", "REWARD_UNKNOWN",
                     "REWARD_NOT_VISIBLE", "REWARD_NOT_ON_SALE", "REWARD_LIMIT",
                     "REWARD_OUT_OF_STOCK", "MEMBER_BLOCKED", "DRAW_CLOSED", "DRAW_LIMIT"]
CatalogItem = IssueReward | LotteryEntries
_ONE = Decimal(1)
# The currency's minor-unit exponent, looked up once per currency rather than per earn.
_exponent = lru_cache(maxsize=64)(currency_exponent)


@dataclass(frozen=True, slots=True)
class Programme:
    """The programme-wide settings the rules read."""

    zone: ZoneInfo  # the network's time zone: weekdays, hours and limit periods are local
    network_party_id: int
    tier_funder: Literal["issuer", "network"] = "issuer"
    # The ladder in force (network/programme/ladder_store.py); () switches tiers off.
    tiers: tuple[TierDefinition, ...] = field(kw_only=True)
    week_starts_on: int = 0  # 0 Monday .. 6 Sunday (5, Saturday, in Iran)
    # Tier code -> (multiplier - 1) as an exact integer ratio, for tiers whose multiplier is
    # above 1; derived once here rather than per earn.
    tier_bonus: Mapping[str, tuple[int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tier_funder not in ("issuer", "network"):
            raise ValueError(f"tier_funder is 'issuer' or 'network', got {self.tier_funder!r}")
        if not 0 <= self.week_starts_on <= 6:
            raise ValueError(f"week_starts_on is 0 (Monday) to 6, got {self.week_starts_on!r}")
        ladder.check(self.tiers)
        object.__setattr__(self, "tier_bonus", {
            t.code: (t.earn_multiplier - _ONE).as_integer_ratio()
            for t in self.tiers if t.earn_multiplier > _ONE})


@dataclass(frozen=True, slots=True)
class Usage:
    """How many awards this member has had from one campaign: in the local day, week and month
    containing the fact (`periods`), and since the campaign began."""

    day: int = 0
    week: int = 0
    month: int = 0
    campaign: int = 0


NO_USAGE = Usage()


class ItemOffer(NamedTuple):
    """A catalog item as a campaign sees it for one member: a reward (IssueReward) at its
    price in points, or a draw's entries (LotteryEntries, free: 0), and why it cannot be given
    now (None: it can). The database edge decides the refusal (reward_grants.offers); an item
    absent from the offers is REWARD_UNKNOWN, or DRAW_CLOSED."""

    price_points: int
    refusal: ItemSkip | None = None


class Effect(NamedTuple):
    """Points the programme adds to a fact, and why: which campaign (or tier) and how, funder by
    funder. The parts sum exactly to `points`; the ledger books one lot per part, issued by
    its party, so settlement bills the funder with no path of its own. (Effects and Skipped are
    named tuples because earns build them: cheaper than frozen dataclasses, as immutable.)"""

    source: Literal["campaign", "tier"]
    code: str  # the campaign's or the tier's code
    campaign_id: int | None
    kind: EffectKind
    points: int
    parts: tuple[FundedPart, ...]
    capped: bool = False  # cut down to the campaign's remaining budget
    entries: int = 0  # lottery entries given (LotteryEntries): free, no points, no parts


class Skipped(NamedTuple):
    """A campaign whose conditions matched but which gave nothing, and why."""

    campaign_id: int
    code: str
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Plan:
    """What a fact earns: the contract's base points, then the effects in the order they were
    applied, and the campaigns that matched but gave nothing. The booking step books `effects`
    (one lot per funded part) and takes each campaign's points from its budget."""

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
             budget_left: Mapping[int, int] | None = None,
             offers: Mapping[CatalogItem, ItemOffer] | None = None) -> Plan:
    """The effects `fact` earns `member` on top of `base_points` (the contract's points for a
    purchase, 0 for anything else), in the order the module docstring defines. `offers`: the
    catalog items campaigns give (a reward, a draw's entries), by the effect naming them
    (reward_grants.offers)."""
    return evaluate_for_tiers(fact, member, (member.tier,), campaigns, base_points=base_points,
                              programme=programme, usage=usage, budget_left=budget_left,
                              offers=offers)[0]


def evaluate_for_tiers(fact: Fact, member: MemberState, tiers: Sequence[str | None],
                       campaigns: CampaignIndex, *, base_points: int, programme: Programme,
                       usage: Mapping[int, Usage] | None = None,
                       budget_left: Mapping[int, int] | None = None,
                       offers: Mapping[CatalogItem, ItemOffer] | None = None) -> tuple[Plan, ...]:
    """`evaluate` for each of `tiers` (the member's state but its tier), in one pass: each
    campaign is matched and its effect computed once, since nothing but its tier condition
    and the tier effect depends on the tier; then each tier's plan is assembled from them.
    What a single earn needs when the tier is read by the booking statement itself
    (network/programme/earn.py, `_deferred`)."""
    if base_points < 0:
        raise ValueError(f"base_points cannot be negative, got {base_points}")
    return priced(fact, tiers, matching(fact, member, tiers, campaigns, programme),
                  base_points=base_points, programme=programme, usage=usage,
                  budget_left=budget_left, offers=offers)


class Matched(NamedTuple):
    """A candidate whose trigger, partner, window and conditions hold for a fact (for at least
    one of the tiers asked about: `gate`, its tier condition), with its basket predicate."""

    campaign: Campaign
    gate: frozenset[str] | None
    counts: Callable[[BasketLine], bool] | None


def matching(fact: Fact, member: MemberState, tiers: Sequence[str | None],
             campaigns: CampaignIndex, programme: Programme) -> tuple[Matched, ...]:
    """The first half of `evaluate_for_tiers`: which campaigns match, in evaluation order.
    It reads no points, usage or budget, so a batch judges it once per shape of line
    (network/programme/batch_rules.py)."""
    candidates = campaigns.candidates(trigger_of(fact), getattr(fact, "partner_id", None))
    if not candidates:
        return ()
    local = fact.at.astimezone(programme.zone)
    return tuple(Matched(campaign, gate, counts) for campaign, match, gate, counts in candidates
                 if not (gate is not None and gate.isdisjoint(tiers))
                 and match(fact, member, local))


def priced(fact: Fact, tiers: Sequence[str | None], matched: Sequence[Matched], *,
           base_points: int, programme: Programme, usage: Mapping[int, Usage] | None = None,
           budget_left: Mapping[int, int] | None = None,
           offers: Mapping[CatalogItem, ItemOffer] | None = None) -> tuple[Plan, ...]:
    """The second half: each matched campaign's effect after its limits and budget, the tier
    effect, and each tier's plan by the stacking rule."""
    judged: list[_Judged] = []
    for campaign, gate, counts in matched:
        skipped: list[Skipped] = []
        effect = _campaign_effect(campaign, counts, fact, base_points, usage, budget_left,
                                  offers, skipped)
        judged.append(_Judged(campaign, gate, effect, skipped[0] if skipped else None))
    return tuple(_assemble(base_points, _tier_effect(fact, tier, base_points, programme),
                           judged, tier) for tier in tiers)


class _Judged(NamedTuple):
    """A candidate that matched the fact (but perhaps not every tier: `gate`), with its effect
    or why it gives nothing."""

    campaign: Campaign
    gate: frozenset[str] | None
    effect: Effect | None
    skipped: Skipped | None


def _assemble(base_points: int, tier_effect: Effect | None, judged: Sequence[_Judged],
              tier: str | None) -> Plan:
    """The plan for one tier: its tier effect, then the stacking rule over the campaigns that
    are for this tier."""
    skipped: list[Skipped] = []
    exclusive: Effect | None = None
    stackable: list[tuple[Campaign, Effect]] = []
    for campaign, gate, effect, skip in judged:
        if gate is not None and tier not in gate:
            continue
        if effect is None:
            skipped.append(skip)  # type: ignore[arg-type]
        elif campaign.stacking != "exclusive":
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
    effects = ((tier_effect,) if tier_effect else ()) + applied
    return Plan(base_points, effects, tuple(skipped))


def _tier_effect(fact: Fact, tier: str | None, base_points: int,
                 programme: Programme) -> Effect | None:
    if not isinstance(fact, Purchase) or not base_points or tier is None:
        return None
    bonus = programme.tier_bonus.get(tier)
    if bonus is None:
        return None
    points = half_even_div(bonus[0] * base_points, bonus[1])
    if points <= 0:
        return None
    funder = (fact.partner_id if programme.tier_funder == "issuer"
              else programme.network_party_id)
    return Effect("tier", tier, None, "tier_multiplier", points,
                  split(points, sole_funder(funder)))


def _campaign_effect(campaign: Campaign, counts: Callable[[BasketLine], bool] | None,
                     fact: Fact, base_points: int,
                     usage: Mapping[int, Usage] | None, budget_left: Mapping[int, int] | None,
                     offers: Mapping[CatalogItem, ItemOffer] | None,
                     skipped: list[Skipped]) -> Effect | None:
    """The campaign's effect after its limits and budget, or None (recorded in `skipped`).
    A catalog item is whole: a reward at its full price, a draw's entries all of them, or the
    campaign is skipped; never capped. Entries count as what their campaign's limits and
    budget count (entries, not awards: a limit of 5 a month is 5 entries)."""
    effect = campaign.effect
    entries = effect.count if isinstance(effect, LotteryEntries) else 0
    reason: SkipReason | None = _limit_reached(
        campaign, (usage or {}).get(campaign.id, NO_USAGE), max(entries, 1))
    item = effect if isinstance(effect, (IssueReward, LotteryEntries)) else None
    if item is not None and reason is None:
        offer = (offers or {}).get(item)
        reason = _UNKNOWN[type(item)] if offer is None else offer.refusal
        points = 0 if offer is None else offer.price_points
    else:
        points = 0 if reason else _points(campaign, counts, fact, base_points)
    budget = campaign.limits.budget_points
    left = None if budget is None else (budget_left or {}).get(campaign.id, budget)
    needs = entries or points
    if reason is None and left is not None and (left <= 0 or item and needs > left):
        reason = "BUDGET_EXHAUSTED"
    elif reason is None and needs <= 0:
        reason = "NO_POINTS"
    if reason is not None:
        skipped.append(Skipped(campaign.id, campaign.code, reason))
        return None
    capped = left is not None and points > left
    if left is not None and capped:
        points = left
    return Effect("campaign", campaign.code, campaign.id, _KINDS[type(effect)], points,
                  split(points, campaign.funder) if points else (), capped, entries)


_KINDS: dict[type, EffectKind] = {FixedPoints: "fixed", PointsPerAmount: "per_amount",
                                  Multiplier: "multiplier", IssueReward: "reward",
                                  LotteryEntries: "entries"}
_UNKNOWN: dict[type, SkipReason] = {IssueReward: "REWARD_UNKNOWN", LotteryEntries: "DRAW_CLOSED"}


def _limit_reached(campaign: Campaign, used: Usage, taking: int = 1) -> SkipReason | None:
    """Whether `taking` more (1 award, or a number of entries) would pass a member limit."""
    limits = campaign.limits
    if limits.per_member_day is not None and used.day + taking > limits.per_member_day:
        return "LIMIT_DAY"
    if limits.per_member_week is not None and used.week + taking > limits.per_member_week:
        return "LIMIT_WEEK"
    if limits.per_member_month is not None and used.month + taking > limits.per_member_month:
        return "LIMIT_MONTH"
    if (limits.per_member_campaign is not None
            and used.campaign + taking > limits.per_member_campaign):
        return "LIMIT_CAMPAIGN"
    return None


def _points(campaign: Campaign, counts: Callable[[BasketLine], bool] | None, fact: Fact,
            base_points: int) -> int:
    """The effect's points before limits and budget, rounded once, half to even."""
    effect = campaign.effect
    if isinstance(effect, FixedPoints):
        return effect.points
    if not isinstance(fact, (Purchase, Return)):
        return 0  # validation keeps amount-based effects to sales triggers
    qualifying = _qualifying(counts, fact)
    if isinstance(effect, PointsPerAmount):
        rate, per = effect.rate.as_integer_ratio()
        return half_even_div(qualifying * rate, per * 10 ** _exponent(fact.amount.currency))
    if isinstance(effect, Multiplier) and isinstance(fact, Purchase):
        extra, per = (effect.factor - _ONE).as_integer_ratio()
        total = fact.amount.amount_minor
        if qualifying != total and total > 0:
            return half_even_div(extra * base_points * qualifying, per * total)
        return half_even_div(extra * base_points, per)
    return 0


def half_even_div(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded to the nearest integer, ties to even:
    money.round_half_even's rule, exact on integers of any size."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def qualifying_amount(campaign: Campaign, fact: Purchase | Return) -> int:
    """Minor units the campaign's amount-based effect counts: the matching basket lines when it
    names categories or skus, else the whole amount."""
    return _qualifying(line_matcher(campaign), fact)


def _qualifying(counts: Callable[[BasketLine], bool] | None, fact: Purchase | Return) -> int:
    if counts is None:
        return fact.amount.amount_minor
    return sum(line.amount_minor for line in fact.lines if counts(line))


def matches(campaign: Campaign, fact: Fact, member: MemberState, local: dt.datetime) -> bool:
    """Whether the campaign's trigger, partner, window and conditions hold for the fact, `local`
    being its time in the network's zone. For explanations and simulations; an earn uses the
    index, which has compiled the same predicate once."""
    partners, tiers = campaign.conditions.partners, campaign.conditions.tiers
    return (campaign.trigger.key == trigger_of(fact)
            and (partners is None or getattr(fact, "partner_id", None) in partners)
            and (tiers is None or member.tier in tiers)
            and compile_matcher(campaign)(fact, member, local))
