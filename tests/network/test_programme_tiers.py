"""Tier definitions are data and qualification is a pure function: no database here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from network.programme.tiers import (
    DEFINITIONS,
    TierDefinition,
    TierFacts,
    check,
    qualify,
    standing,
    status_for,
    window,
)

YEAR = dt.timedelta(days=365)


def test_the_programme_keeps_the_wallets_tiers_and_thresholds():
    assert [(d.code, d.threshold) for d in DEFINITIONS] == [
        ("blue", 0), ("silver", 2_000), ("gold", 10_000), ("platinum", 50_000)]
    assert {d.metric for d in DEFINITIONS} == {"points_earned"}
    assert window(DEFINITIONS) == YEAR
    assert all(d.earn_multiplier == Decimal(1) and d.retention == dt.timedelta(0)
               for d in DEFINITIONS)
    assert [d.name("en") for d in DEFINITIONS] == ["Blue", "Silver", "Gold", "Platinum"]
    assert [d.name("fa") for d in DEFINITIONS] == ["آبی", "نقره‌ای", "طلایی", "پلاتینی"]


@pytest.mark.parametrize(("points", "tier"), [
    (0, "blue"), (1_999, "blue"), (2_000, "silver"), (9_999, "silver"), (10_000, "gold"),
    (49_999, "gold"), (50_000, "platinum"), (10**12, "platinum")])
def test_qualify_picks_the_highest_threshold_reached(points: int, tier: str):
    assert qualify(DEFINITIONS, TierFacts(points)).code == tier


def test_no_definitions_means_no_tiers():
    assert qualify((), TierFacts(5_000)) is None
    assert standing((), TierFacts(5_000)) is None
    assert status_for(5_000, ()) is None


def test_standing_shows_the_way_to_the_next_tier():
    blue = standing(DEFINITIONS, TierFacts(1_999))
    assert (blue.name, blue.next_name, blue.next_threshold, blue.remaining) == (
        "blue", "silver", 2_000, 1)
    silver = status_for(2_000)
    assert (silver.name, silver.remaining, silver.progress, silver.span) == (
        "silver", 8_000, 0, 8_000)
    gold = status_for(12_500)
    assert (gold.progress, gold.span, gold.remaining) == (2_500, 40_000, 37_500)
    top = status_for(60_000)
    assert (top.name, top.next, top.remaining, top.span, top.progress) == (
        "platinum", None, 0, 1, 1)


def test_other_definitions_are_just_other_data():
    two = (TierDefinition("member", "Member", "عضو", "points_earned", 0, YEAR),
           TierDefinition("vip", "VIP", "ویژه", "points_earned", 100, YEAR,
                          earn_multiplier=Decimal("1.5")))
    check(two)
    assert qualify(two, TierFacts(99)).code == "member"
    assert standing(two, TierFacts(100)).tier.earn_multiplier == Decimal("1.5")


def _with(index: int, **change: object) -> tuple[TierDefinition, ...]:
    tiers = list(DEFINITIONS)
    tiers[index] = dataclasses.replace(tiers[index], **change)
    return tuple(tiers)


@pytest.mark.parametrize(("definitions", "words"), [
    (_with(0, threshold=10), "first tier"),
    (_with(2, threshold=2_000), "rise"),
    (_with(1, code="blue"), "unique"),
    (_with(1, metric="visits"), "metric"),
    (_with(3, window=dt.timedelta(days=30)), "window"),
    (_with(2, earn_multiplier=Decimal("0.5")), "earn_multiplier"),
    (_with(2, retention=dt.timedelta(days=90)), "retention"),
    (_with(1, name_fa=" "), "Persian"),
])
def test_check_refuses_definitions_qualify_cannot_apply(definitions, words: str):
    with pytest.raises(ValueError, match=words):
        check(definitions)
