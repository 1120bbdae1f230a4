"""Plain values the programme tests build on: a café, a shop, the network, a silver member, a
Saturday afternoon in Tehran. No fixtures, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from network.money import Money
from network.programme.campaigns import Campaign, FixedPoints, Trigger, sole_funder
from network.programme.facts import BasketLine, MemberState, Purchase
from network.programme.rules import Programme
from network.programme.tiers import DEFINITIONS

CAFE, SHOP, NETWORK = 11, 12, 1
MEMBER = 7
TEHRAN = ZoneInfo("Asia/Tehran")
# Saturday 6 June 2026, 14:30 in Tehran (UTC+3:30 all year since 2022).
SATURDAY_AFTERNOON = dt.datetime(2026, 6, 6, 14, 30, tzinfo=TEHRAN).astimezone(dt.UTC)
LAUNCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# The programme's tiers with no multiplier, so that a campaign test's plan holds the campaign's
# effects alone; the tier effect has tests of its own (test_rules_evaluate.py).
PLAIN_TIERS = tuple(dataclasses.replace(d, earn_multiplier=Decimal(1)) for d in DEFINITIONS)
PROGRAMME = Programme(zone=TEHRAN, network_party_id=NETWORK, tiers=PLAIN_TIERS)
SILVER = MemberState(MEMBER, "silver", frozenset({"students"}), dt.date(2025, 3, 1))
CATEGORIES = frozenset({"coffee", "beans", "pastry"})


def purchase(**overrides: Any) -> Purchase:
    values: dict[str, Any] = {
        "partner_id": CAFE, "member_id": MEMBER, "amount": Money(1250, "EUR"),
        "at": SATURDAY_AFTERNOON}
    return Purchase(**(values | overrides))


def lines(*spec: tuple[str, str, int]) -> tuple[BasketLine, ...]:
    """lines(("sku-1", "coffee", 450), ...): one of each."""
    return tuple(BasketLine(sku, category, 1, amount) for sku, category, amount in spec)


def campaign(id: int = 1, **overrides: Any) -> Campaign:
    """An active, stackable, open-ended purchase campaign giving 10 points, funded by the café."""
    values: dict[str, Any] = {
        "id": id, "code": f"c{id}", "name_en": f"Campaign {id}", "name_fa": f"کمپین {id}",
        "trigger": Trigger("purchase"), "effect": FixedPoints(10),
        "funder": sole_funder(CAFE), "starts_at": LAUNCH, "status": "active"}
    return Campaign(**(values | overrides))


def replace(value: Any, **changes: Any) -> Any:
    return dataclasses.replace(value, **changes)
