"""A campaign as plain data: which facts it reacts to, when it matches, what it gives, how often,
from whose pocket.

Campaigns are values so the store, the signed API, the simulation and the rules share one
model; network/programme/validation.py says which values are acceptable and
network/programme/rules.py evaluates them.

Conventions every part follows:
- A condition left as None does not constrain; a condition set to an empty collection can never
  match, which validation refuses (it is always a mistake).
- Times of day and weekdays are read in the network's time zone (settings' timezone).
- The time window is half-open, [starts_at, ends_at): a campaign ending at midnight does not
  apply to a purchase at midnight, and the next one starting then does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from network.programme.facts import AttributeValue
from network.programme.tiers import TierDefinition

TriggerKind = Literal["purchase", "return", "event", "lifecycle", "schedule"]
TRIGGER_KINDS: frozenset[str] = frozenset(TriggerKind.__args__)  # type: ignore[attr-defined]
# Triggers whose facts carry a partner, an amount, a channel and basket lines.
SALES_TRIGGERS: frozenset[str] = frozenset({"purchase", "return"})

Status = Literal["draft", "active", "paused", "ended"]
STATUSES: frozenset[str] = frozenset(Status.__args__)  # type: ignore[attr-defined]

Stacking = Literal["stackable", "exclusive"]
STACKINGS: frozenset[str] = frozenset(Stacking.__args__)  # type: ignore[attr-defined]

FULL_SHARE = 10_000  # funder shares are basis points of an effect's points


@dataclass(frozen=True, slots=True)
class Trigger:
    """What kind of fact wakes the campaign. `name` is the custom event type ("review"), the
    lifecycle kind ("birthday") or the schedule ("monthly"); empty for purchase and return."""

    kind: TriggerKind
    name: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True, slots=True)
class HourWindow:
    """Local time of day, [start, end). start > end wraps midnight (22:00-02:00); start == end
    is empty and refused."""

    start: dt.time
    end: dt.time

    def contains(self, at: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    """An event attribute must be present and, when given, equal one of `one_of` and/or lie in
    [at_least, at_most] (numbers only: a review's rating of at least 4)."""

    key: str
    one_of: frozenset[AttributeValue] | None = None
    at_least: Decimal | None = None
    at_most: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Conditions:
    """All must hold (AND); inside one condition, any listed value will do (OR)."""

    partners: frozenset[int] | None = None
    # Basket: some line's category or sku must be listed. When either is set, per-amount and
    # multiplier effects count only the matching lines (see rules.qualifying_share).
    categories: frozenset[str] | None = None
    skus: frozenset[str] | None = None
    # The purchase's (or return's) total, inclusive bounds, minor units.
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    tiers: frozenset[str] | None = None  # see tiers_from for "silver and above"
    segments: frozenset[str] | None = None  # the member is in at least one
    weekdays: frozenset[int] | None = None  # 0 Monday .. 6 Sunday, in the network's zone
    hours: HourWindow | None = None  # in the network's zone
    channels: frozenset[str] | None = None
    first_at_partner: bool = False  # only the member's first purchase at this partner
    attributes: tuple[AttributeCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class FixedPoints:
    points: int


@dataclass(frozen=True, slots=True)
class PointsPerAmount:
    """`rate` points per major unit of the amount (as the contract's earn rate is)."""

    rate: Decimal


@dataclass(frozen=True, slots=True)
class Multiplier:
    """Base points times `factor`: the campaign adds (factor - 1) x base, so a double-points
    campaign (factor 2) adds the base once more. Several multipliers add, they do not compound:
    each line of the explanation stands on its own."""

    factor: Decimal


@dataclass(frozen=True, slots=True)
class IssueReward:
    """Give the member one of a catalog reward (its id): the funders issue the reward's price
    in points as the campaign's lots, and the same transaction spends exactly those lots on the
    reward at its honouring partner (network/programme/reward_grants.py), so settlement bills
    the funders and pays the partner as for any purchase. Limits and budget count the price."""

    reward_id: int


@dataclass(frozen=True, slots=True)
class LotteryEntries:
    """Give the member `count` free entries in an open lottery draw (its code), booked through
    the draw's own entry path with the campaign as their provenance. Free entries cost no
    points, so no ledger entry; the campaign's member limits and budget count entries."""

    draw_code: str
    count: int


CampaignEffect = FixedPoints | PointsPerAmount | Multiplier | IssueReward | LotteryEntries


@dataclass(frozen=True, slots=True)
class Limits:
    """How many times one member may benefit, per local day / week / month and over the whole
    campaign, and the campaign's total budget in points. None: no limit."""

    per_member_day: int | None = None
    per_member_week: int | None = None
    per_member_month: int | None = None
    per_member_campaign: int | None = None
    budget_points: int | None = None


@dataclass(frozen=True, slots=True)
class FunderShare:
    party_id: int
    share: int  # basis points of the effect's points; a funder's shares sum to FULL_SHARE


def sole_funder(party_id: int) -> tuple[FunderShare, ...]:
    return (FunderShare(party_id, FULL_SHARE),)


def split_funder(*parts: tuple[int, int]) -> tuple[FunderShare, ...]:
    """split_funder((cafe, 5_000), (network, 5_000)): shares in the order given, which is the
    order ties are broken in (network/programme/funding.py)."""
    return tuple(FunderShare(party, share) for party, share in parts)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    code: str
    name_en: str
    name_fa: str
    trigger: Trigger
    effect: CampaignEffect
    funder: tuple[FunderShare, ...]
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None  # open-ended when None
    conditions: Conditions = Conditions()
    limits: Limits = Limits()
    status: Status = "draft"
    priority: int = 0  # higher runs first; ties by id
    stacking: Stacking = "stackable"

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


def tiers_from(definitions: Sequence[TierDefinition], code: str) -> frozenset[str]:
    """The tier `code` and every tier above it ("silver and above"), from definitions that run
    from the lowest tier up (ladder.check)."""
    codes = [d.code for d in definitions]
    if code not in codes:
        raise ValueError(f"no tier {code!r} among {codes}")
    return frozenset(codes[codes.index(code):])


def evaluation_order(campaigns: Iterable[Campaign]) -> list[Campaign]:
    """THE order campaigns are considered in: priority descending, then id ascending."""
    return sorted(campaigns, key=lambda c: (-c.priority, c.id))
