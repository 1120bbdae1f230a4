"""Tier definitions are data and qualification is a pure function: no database here."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from network.programme.ladder import check
from network.programme.tiers import (
    DEFINITIONS,
    HeldTier,
    TierDefinition,
    TierFacts,
    held_standing,
    next_tier,
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
    assert [d.earn_multiplier for d in DEFINITIONS] == [
        Decimal(1), Decimal("1.25"), Decimal("1.5"), Decimal(2)]
    assert [d.retention.days for d in DEFINITIONS] == [0, 90, 90, 90]
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
    silver = status_for(2_000, DEFINITIONS)
    assert (silver.name, silver.remaining, silver.progress, silver.span) == (
        "silver", 8_000, 0, 8_000)
    gold = status_for(12_500, DEFINITIONS)
    assert (gold.progress, gold.span, gold.remaining) == (2_500, 40_000, 37_500)
    top = status_for(60_000, DEFINITIONS)
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
    (_with(2, threshold=2_000), "must be above"),
    (_with(1, code="blue"), "two tiers have the code"),
    (_with(1, metric="visits"), "metric"),
    (_with(3, window=dt.timedelta(days=30)), "window"),
    (_with(2, earn_multiplier=Decimal("0.5")), "earnMultiplier"),
    (_with(2, earn_multiplier=Decimal(11)), "earnMultiplier"),
    (_with(2, retention=dt.timedelta(hours=36)), "whole number of days"),
    (_with(2, retention=dt.timedelta(days=-1)), "retention"),
    (_with(0, retention=dt.timedelta(days=30)), "no retention"),
    (_with(1, name_fa=" "), "Persian"),
])
def test_check_refuses_definitions_qualify_cannot_apply(definitions, words: str):
    with pytest.raises(ValueError, match=words):
        check(definitions)


# --- next_tier: the tier a member holds, given the one they held --------------------------------

NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
TODAY = NOON.date()


def _held(code: str, until: dt.date | None) -> HeldTier:
    return HeldTier(code, NOON - dt.timedelta(days=200), until)


def _decide(points: int, current: HeldTier | None, now: dt.datetime = NOON):
    d = next_tier(DEFINITIONS, TierFacts(points), current, now)
    return d.tier.code, d.until, d.changed


def test_a_member_without_a_stored_tier_holds_the_first_and_reaching_more_is_a_change():
    assert _decide(500, None) == ("blue", None, False)
    assert _decide(2_000, None) == ("silver", TODAY + dt.timedelta(days=90), True)
    assert _decide(60_000, None) == ("platinum", TODAY + dt.timedelta(days=90), True)


def test_qualifying_again_keeps_the_tier_and_moves_its_retention_end():
    until = TODAY + dt.timedelta(days=3)
    assert _decide(12_000, _held("gold", until)) == ("gold", TODAY + dt.timedelta(days=90), False)


def test_reaching_a_higher_tier_upgrades_at_once():
    assert _decide(10_000, _held("silver", TODAY + dt.timedelta(days=80))) == (
        "gold", TODAY + dt.timedelta(days=90), True)


def test_falling_below_keeps_the_tier_through_the_last_day_of_retention():
    last_day = TODAY
    assert _decide(3_000, _held("gold", last_day)) == ("gold", last_day, False)
    # The next day the member holds what their points reach: silver, kept 90 days from then.
    tomorrow = NOON + dt.timedelta(days=1)
    assert _decide(3_000, _held("gold", last_day), tomorrow) == (
        "silver", tomorrow.date() + dt.timedelta(days=90), True)


def test_a_downgrade_may_skip_tiers_and_reach_the_first():
    assert _decide(0, _held("platinum", TODAY - dt.timedelta(days=1))) == ("blue", None, True)


def test_today_is_the_date_in_the_zone_of_now():
    tehran = dt.timezone(dt.timedelta(hours=3, minutes=30))
    late = dt.datetime(2026, 12, 7, 21, 0, tzinfo=dt.UTC)  # already 8 December in Tehran
    assert _decide(3_000, _held("gold", dt.date(2026, 12, 7)), late)[0] == "gold"
    assert _decide(3_000, _held("gold", dt.date(2026, 12, 7)), late.astimezone(tehran))[0] == (
        "silver")


def test_a_tier_no_longer_defined_is_replaced_by_what_the_facts_reach():
    assert _decide(2_500, _held("diamond", TODAY + dt.timedelta(days=30))) == (
        "silver", TODAY + dt.timedelta(days=90), True)


def test_zero_retention_keeps_a_tier_only_on_the_days_the_member_qualifies():
    plain = tuple(dataclasses.replace(d, retention=dt.timedelta(0)) for d in DEFINITIONS)
    kept = next_tier(plain, TierFacts(2_000), _held("silver", TODAY - dt.timedelta(days=1)), NOON)
    assert (kept.tier.code, kept.until, kept.changed) == ("silver", TODAY, False)
    lost = next_tier(plain, TierFacts(1_999), _held("silver", TODAY - dt.timedelta(days=1)), NOON)
    assert (lost.tier.code, lost.until, lost.changed) == ("blue", None, True)


def test_held_standing_shows_the_held_tier_and_the_way_to_the_next():
    until = TODAY + dt.timedelta(days=20)
    kept = held_standing(DEFINITIONS, TierFacts(3_000), _held("gold", until))
    assert (kept.name, kept.next_name, kept.remaining, kept.until) == (
        "gold", "platinum", 47_000, until)
    assert held_standing((), TierFacts(3_000), None) is None


def test_the_tier_in_force_is_the_held_one_or_what_the_facts_reach_if_higher():
    """The stored row may lag an upgrade (the job has not run); it never lags a downgrade,
    which only the job decides."""
    unstored = held_standing(DEFINITIONS, TierFacts(3_000), None)
    assert (unstored.name, unstored.since, unstored.until) == ("silver", None, None)
    lagging = held_standing(DEFINITIONS, TierFacts(12_000), _held("silver", TODAY))
    assert (lagging.name, lagging.until) == ("gold", None)
    assert held_standing(DEFINITIONS, TierFacts(0), _held("gold", TODAY)).name == "gold"
