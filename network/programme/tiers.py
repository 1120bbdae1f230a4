"""Tiers as data: what each tier takes to hold and what it gives, and the pure rule that says
which tier a member's facts qualify for.

A definition is plain data (names in every page language, a qualification metric, a threshold
over a window, benefits, retention). The ladder in force is kept in the database and edited by
operators (network/programme/ladder_store.py reads it, with a per-process cache; ladder.py
validates an edit); DEFINITIONS below is only the seed a new network starts with. The ledger
facts a rule reads are gathered at the edge (network/programme/tier_facts.py), never here. An
empty tuple of definitions switches tiers off everywhere.

Two rules: `qualify` says which tier the facts reach today; `next_tier` says which tier the
member HOLDS, given the tier they held (stored, network/programme/tiers_store.py): reaching a
higher tier upgrades at once; falling below keeps the held tier until `retention` after the
last day the member qualified for it, then moves them to the tier their facts reach.
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
    # Benefits: a purchase's base points are multiplied by this (the TIER effect, rules.py).
    earn_multiplier: Decimal = Decimal(1)
    # How long the tier is kept after the last day the member qualified for it (whole days;
    # 0: only while they qualify). See `next_tier`.
    retention: dt.timedelta = dt.timedelta(0)

    def name(self, language: str) -> str:
        return self.name_fa if language == "fa" else self.name_en


def name_of(definitions: Sequence[TierDefinition], code: str | None, language: str) -> str:
    """A tier's name in `language`; a code the ladder no longer has shows as itself."""
    found = next((d for d in definitions if d.code == code), None)
    return found.name(language) if found is not None else (code or "-")


@dataclass(frozen=True)
class TierFacts:
    """What qualification reads about one member, gathered at the edge."""

    points_earned: int  # over the definitions' window, net of reversals, never below 0


_YEAR = dt.timedelta(days=365)
MAX_MULTIPLIER = Decimal(10)

_KEEP = dt.timedelta(days=90)

# The seed: the ladder migration 0026 stores, and what a database with no stored version uses.
DEFINITIONS: tuple[TierDefinition, ...] = (
    TierDefinition("blue", "Blue", "آبی", "points_earned", 0, _YEAR),
    TierDefinition("silver", "Silver", "نقره‌ای", "points_earned", 2_000, _YEAR,
                   Decimal("1.25"), _KEEP),
    TierDefinition("gold", "Gold", "طلایی", "points_earned", 10_000, _YEAR,
                   Decimal("1.5"), _KEEP),
    TierDefinition("platinum", "Platinum", "پلاتینی", "points_earned", 50_000, _YEAR,
                   Decimal(2), _KEEP),
)


def window(definitions: Sequence[TierDefinition]) -> dt.timedelta:
    """The trailing window the facts are counted over (one for all tiers, see `check`)."""
    return definitions[0].window if definitions else _YEAR


def qualify(definitions: Sequence[TierDefinition], facts: TierFacts) -> TierDefinition | None:
    """The highest tier whose threshold the facts reach; None when there are no tiers.
    `definitions` run from the lowest tier up, as `check` requires."""
    reached = [d for d in definitions if facts.points_earned >= d.threshold]
    return reached[-1] if reached else (definitions[0] if definitions else None)


def rank(definitions: Sequence[TierDefinition], code: str | None) -> int:
    """The tier's place from the bottom (0: the first tier); -1 for a code no longer defined,
    so that any defined tier replaces it."""
    for index, tier in enumerate(definitions):
        if tier.code == code:
            return index
    return -1


@dataclass(frozen=True)
class HeldTier:
    """The tier a member holds, as stored: since when, and the last day it is kept if they
    fall below it (None for the first tier, which nobody loses)."""

    code: str
    since: dt.datetime
    until: dt.date | None


@dataclass(frozen=True)
class TierDecision:
    tier: TierDefinition
    until: dt.date | None  # the last day the tier is kept if the member falls below it
    changed: bool  # a different tier than the one held (the first tier when none was stored)


def next_tier(definitions: Sequence[TierDefinition], facts: TierFacts, current: HeldTier | None,
              now: dt.datetime) -> TierDecision:
    """The tier a member holds at `now` (aware; its date, in its zone, is "today").

    - Facts that reach the held tier or a higher one: that tier, kept until today + its
      retention (today is a qualifying day); a higher one is an upgrade.
    - Facts below the held tier: the held tier while today is on or before its `until`, the
      last day of retention; after it, the tier the facts reach (a downgrade, possibly by more
      than one step), kept from today like any tier reached.
    - No tier held (`current` None) counts as holding the first tier.
    A held code no longer defined is replaced by the tier the facts reach."""
    if not definitions:
        raise ValueError("next_tier needs at least one tier definition")
    today = now.date()
    reached = qualify(definitions, facts)
    assert reached is not None
    held_rank = 0 if current is None else rank(definitions, current.code)
    reached_rank = rank(definitions, reached.code)

    def reach() -> TierDecision:
        until = today + reached.retention if reached_rank else None
        held_code = definitions[0].code if current is None else current.code
        return TierDecision(reached, until, reached.code != held_code)

    if reached_rank >= held_rank or current is None:
        return reach()
    if current.until is not None and today <= current.until:
        return TierDecision(definitions[held_rank], current.until, False)
    return reach()


@dataclass(frozen=True)
class TierStatus:
    """A member's tier and the way to the next one, as the wallet shows it."""

    tier: TierDefinition
    earned: int
    next: TierDefinition | None
    # The stored tier's dates (`held`), None when the status was derived from the facts alone.
    since: dt.datetime | None = None
    until: dt.date | None = None

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
    def below(self) -> int:
        """Points the member is short of the held tier's own threshold: more than 0 while they
        hold it on retention alone, and must earn that much by `until` to keep it."""
        return max(0, self.tier.threshold - self.earned)

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


def in_force(definitions: Sequence[TierDefinition], facts: TierFacts,
             held: HeldTier | None) -> TierDefinition | None:
    """The tier a member has now: the held one (stored), or the one the facts reach when that is
    higher, since `next_tier` upgrades at once; the stored row may lag (points that came
    another way than a partner's earn, before the daily job runs), the member's tier does not.
    None when there are no tiers."""
    reached = qualify(definitions, facts)
    if reached is None or held is None:
        return reached
    index = rank(definitions, held.code)
    if index < 0 or rank(definitions, reached.code) > index:
        return reached
    return definitions[index]


def held_standing(definitions: Sequence[TierDefinition], facts: TierFacts,
                  held: HeldTier | None) -> TierStatus | None:
    """The status of the tier in force (`in_force`), with the next tier above it and what the
    facts still need for it, and the stored dates when it is the held tier: what the wallet
    and `me` show."""
    tier = in_force(definitions, facts, held)
    if tier is None:
        return None
    index = rank(definitions, tier.code)
    nxt = definitions[index + 1] if index + 1 < len(definitions) else None
    stored = held is not None and held.code == tier.code
    return TierStatus(tier, facts.points_earned, nxt, held.since if stored else None,
                      held.until if stored else None)


def status_for(points_earned: int, definitions: Sequence[TierDefinition]) -> TierStatus | None:
    """The programme's tier for a member who earned `points_earned` in the window."""
    return standing(definitions, TierFacts(points_earned))
