"""Tiers as data: what each tier takes to hold and what it gives, and the pure rule that says
which tier a member's facts qualify for.

A definition is plain data (names in every page language, a qualification metric, a threshold
over a window, benefits, retention), so the programme can later keep definitions in the
database and edit them without code changes; the ledger facts a rule reads are gathered at the
edge (network/programme/tier_facts.py), never here. An empty tuple of definitions switches tiers
off everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

# The one qualification metric so far: points earned in the window (earn and bonus entries
# minus earn reversals), so returning a purchase also takes back its tier credit and spending
# never lowers a tier.
Metric = Literal["points_earned"]
METRICS: frozenset[str] = frozenset({"points_earned"})


@dataclass(frozen=True)
class TierDefinition:
    code: str  # stable id, shown by the APIs ("gold")
    name_en: str
    name_fa: str
    metric: Metric
    threshold: int  # the metric's value over `window` needed to hold the tier
    window: dt.timedelta  # trailing window the metric is counted over
    # Benefits. Earns are multiplied by this once tier effects exist; 1 until then.
    earn_multiplier: Decimal = Decimal(1)
    # How long the tier is kept after the member falls below it. 0: only while they qualify,
    # which is all `qualify` can decide until tier history is stored.
    retention: dt.timedelta = dt.timedelta(0)

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


@dataclass(frozen=True)
class TierFacts:
    """What qualification reads about one member, gathered at the edge."""

    points_earned: int  # over the definitions' window, net of reversals, never below 0


_YEAR = dt.timedelta(days=365)

DEFINITIONS: tuple[TierDefinition, ...] = (
    TierDefinition("blue", "Blue", "آبی", "points_earned", 0, _YEAR),
    TierDefinition("silver", "Silver", "نقره‌ای", "points_earned", 2_000, _YEAR),
    TierDefinition("gold", "Gold", "طلایی", "points_earned", 10_000, _YEAR),
    TierDefinition("platinum", "Platinum", "پلاتینی", "points_earned", 50_000, _YEAR),
)


def check(definitions: Sequence[TierDefinition]) -> None:
    """Refuse definitions `qualify` cannot apply faithfully, naming the tier and the field."""
    codes = [d.code for d in definitions]
    if len(set(codes)) != len(codes):
        raise ValueError(f"tier codes must be unique, got {codes}")
    for index, tier in enumerate(definitions):
        where = f"tier {tier.code!r}"
        if tier.metric not in METRICS:
            raise ValueError(f"{where}: metric must be one of {sorted(METRICS)}")
        if tier.window <= dt.timedelta(0) or tier.window != definitions[0].window:
            raise ValueError(f"{where}: window must be positive and the same for every tier")
        if index == 0 and tier.threshold != 0:
            raise ValueError(f"{where}: the first tier is everyone's, so its threshold is 0")
        if index and tier.threshold <= definitions[index - 1].threshold:
            raise ValueError(f"{where}: thresholds must rise from tier to tier")
        if tier.earn_multiplier < 1:
            raise ValueError(f"{where}: earn_multiplier must be at least 1")
        if tier.retention != dt.timedelta(0):
            raise ValueError(f"{where}: retention needs tier history, which is not kept yet")
        if not tier.name_en.strip() or not tier.name_fa.strip():
            raise ValueError(f"{where}: needs a name in English and in Persian")


check(DEFINITIONS)


def window(definitions: Sequence[TierDefinition] = DEFINITIONS) -> dt.timedelta:
    """The trailing window the facts are counted over (one for all tiers, see `check`)."""
    return definitions[0].window if definitions else _YEAR


def qualify(definitions: Sequence[TierDefinition], facts: TierFacts) -> TierDefinition | None:
    """The highest tier whose threshold the facts reach; None when there are no tiers.
    `definitions` run from the lowest tier up, as `check` requires."""
    reached = [d for d in definitions if facts.points_earned >= d.threshold]
    return reached[-1] if reached else (definitions[0] if definitions else None)


@dataclass(frozen=True)
class TierStatus:
    """A member's tier and the way to the next one, as the wallet shows it."""

    tier: TierDefinition
    earned: int
    next: TierDefinition | None

    @property
    def name(self) -> str:
        return self.tier.code

    @property
    def next_name(self) -> str | None:
        return self.next.code if self.next else None

    @property
    def next_threshold(self) -> int | None:
        return self.next.threshold if self.next else None

    @property
    def remaining(self) -> int:
        return max(0, (self.next_threshold or 0) - self.earned)

    @property
    def span(self) -> int:
        """Points between this tier's floor and the next tier's, for the progress bar."""
        return max(1, (self.next_threshold or self.tier.threshold) - self.tier.threshold)

    @property
    def progress(self) -> int:
        return min(self.span, max(0, self.earned - self.tier.threshold))


def standing(definitions: Sequence[TierDefinition], facts: TierFacts) -> TierStatus | None:
    """`qualify`'s tier with the next one up and the progress towards it."""
    tier = qualify(definitions, facts)
    if tier is None:
        return None
    above = list(definitions)[list(definitions).index(tier) + 1:]
    return TierStatus(tier, facts.points_earned, above[0] if above else None)


def status_for(points_earned: int,
               definitions: Sequence[TierDefinition] = DEFINITIONS) -> TierStatus | None:
    """The programme's tier for a member who earned `points_earned` in the window."""
    return standing(definitions, TierFacts(points_earned))
