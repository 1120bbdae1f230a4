"""The facts the programme's rules read: what happened, and the member it happened to.

Plain frozen values, built at the edges (the earn seam, the partners' `recordEvent`, the
network's own jobs) and read by the pure rules in network/programme/rules.py. Nothing here
touches the database, so a test, a simulation over history and the live earn all feed the rules
the same way.

Times are timezone-aware (UTC at the edges); the rules convert to the network's zone once per
evaluation. Amounts are `Money` (integer minor units), never floats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from network.money import Money

# Where a purchase was made. A campaign may name some of these ("online only").
CHANNELS: frozenset[str] = frozenset({"in_store", "online", "app", "phone"})

# Events the network raises itself (never a partner).
LifecycleKind = Literal["enrolled", "profile_completed", "birthday", "tier_changed",
                        "referral_converted", "reward_redeemed"]
LIFECYCLE_KINDS: frozenset[str] = frozenset(LifecycleKind.__args__)  # type: ignore[attr-defined]

# Custom events partners send with recordEvent; each type's attribute schema is registered
# elsewhere, the rules only need the names.
EVENT_TYPES: frozenset[str] = frozenset({"review", "survey_completed", "social_share",
                                         "app_install"})

# A custom event's or lifecycle event's attribute: small, flat, comparable values.
AttributeValue = str | int | bool | Decimal


def _settle_event(event: CustomEvent | LifecycleEvent) -> None:
    """Check the time and keep a read-only copy of the attributes, so an event cannot change
    after the rules have read it (nor when the sender's dict changes)."""
    _aware(event.at)
    object.__setattr__(event, "attributes", MappingProxyType(dict(event.attributes)))


def _aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a fact's time must be timezone-aware, got {at!r}")


def _sale(fact: Purchase | Return) -> None:
    """A programming guard, not the partner's error: the API refuses a bad channel first."""
    _aware(fact.at)
    if fact.channel not in CHANNELS:
        raise ValueError(f"channel must be one of {sorted(CHANNELS)}, got {fact.channel!r}")


@dataclass(frozen=True, slots=True)
class BasketLine:
    """One line of a purchase or a return, as the partner's till sent it."""

    sku: str
    category: str
    quantity: int
    amount_minor: int  # the line's total, in the purchase's currency


@dataclass(frozen=True, slots=True)
class Purchase:
    partner_id: int
    member_id: int
    amount: Money
    at: dt.datetime
    channel: str = "in_store"
    lines: tuple[BasketLine, ...] = ()
    # Whether this is the member's first purchase at this partner; the edge knows, the rules
    # only read it (a "welcome to our shop" campaign).
    first_at_partner: bool = False

    def __post_init__(self) -> None:
        _sale(self)


@dataclass(frozen=True, slots=True)
class Return:
    """Goods brought back. The earn's own points, campaign points included, are reversed by the
    ledger with the earn; a return campaign is for anything extra the programme wants."""

    partner_id: int
    member_id: int
    amount: Money
    at: dt.datetime
    channel: str = "in_store"
    lines: tuple[BasketLine, ...] = ()

    def __post_init__(self) -> None:
        _sale(self)


@dataclass(frozen=True, slots=True)
class CustomEvent:
    """Something a partner reports that is not a sale: a review, a survey, an app install."""

    type: str
    partner_id: int
    member_id: int
    at: dt.datetime
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _settle_event(self)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """Something the network raises about a member: enrolled, birthday, tier changed...

    `member_id` is the member who benefits: for referral_converted, the referrer. `partner_id`
    is the partner involved when there is one (the enrolling partner, the partner of a referred
    member's first purchase); `attributes` carry details such as a tier change's
    {"from": "silver", "to": "gold"}."""

    kind: str
    member_id: int
    at: dt.datetime
    partner_id: int | None = None
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in LIFECYCLE_KINDS:  # the network raises these: a typo is a bug
            raise ValueError(f"lifecycle kind must be one of {sorted(LIFECYCLE_KINDS)}, "
                             f"got {self.kind!r}")
        _settle_event(self)


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    """A scheduled campaign's tick for one member (a monthly job naming its schedule)."""

    schedule: str
    member_id: int
    at: dt.datetime

    def __post_init__(self) -> None:
        _aware(self.at)


Fact = Purchase | Return | CustomEvent | LifecycleEvent | ScheduledRun


@dataclass(frozen=True, slots=True)
class MemberState:
    """What the rules read about the member, gathered at the edge before evaluation."""

    member_id: int
    tier: str | None  # the tier code in force, None when tiers are off
    segments: frozenset[str] = frozenset()
    enrolled_on: dt.date | None = None
    birth_date: dt.date | None = None
