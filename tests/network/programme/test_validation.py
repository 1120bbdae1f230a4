"""Campaign validation: each problem named by field and code, all found at once, none for a good
campaign."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    Conditions,
    FixedPoints,
    FunderShare,
    HourWindow,
    IssueReward,
    Limits,
    LotteryEntries,
    Multiplier,
    PointsPerAmount,
    Trigger,
    split_funder,
)
from network.programme.tiers import DEFINITIONS
from network.programme.validation import Problem, validate

from .values import CAFE, CATEGORIES, LAUNCH, NETWORK, SHOP, campaign

REVIEW = Trigger("event", "review")
BIRTHDAY = Trigger("lifecycle", "birthday")
MONTHLY = Trigger("schedule", "monthly")


def problems(c: Campaign, **kwargs: Any) -> list[tuple[str, str]]:
    found = validate(c, categories=CATEGORIES, tiers=DEFINITIONS,
                     segments=frozenset({"students"}), **kwargs)
    assert all(isinstance(p, Problem) and p.message for p in found)
    return [(p.field, p.code) for p in found]


def one(field: str, code: str) -> list[tuple[str, str]]:
    return [(field, code)]


def test_a_good_campaign_has_no_problems():
    rich = campaign(
        conditions=Conditions(
            partners=frozenset({CAFE}), categories=frozenset({"coffee"}),
            skus=frozenset({"latte"}), min_amount_minor=0, max_amount_minor=10_000,
            tiers=frozenset({"silver", "gold"}), segments=frozenset({"students"}),
            weekdays=frozenset({5, 6}), hours=HourWindow(dt.time(22), dt.time(2)),
            channels=frozenset({"online"}), first_at_partner=True),
        effect=Multiplier(Decimal(2)), limits=Limits(1, 2, 3, 4, budget_points=10_000),
        funder=split_funder((CAFE, 5_000), (NETWORK, 5_000)),
        ends_at=LAUNCH + dt.timedelta(days=2), stacking="exclusive", priority=1_000)
    assert problems(rich, spent_points=10_000) == []
    event = campaign(trigger=REVIEW, conditions=Conditions(attributes=(
        AttributeCondition("rating", at_least=Decimal(4), at_most=Decimal(5)),)))
    assert problems(event) == []
    assert problems(campaign(trigger=MONTHLY)) == []
    assert problems(campaign(trigger=BIRTHDAY)) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"code": ""}, one("code", "CODE_INVALID")),
    ({"code": "double points!"}, one("code", "CODE_INVALID")),
    ({"name_en": "  "}, one("nameEn", "NAME_REQUIRED")),
    ({"name_fa": ""}, one("nameFa", "NAME_REQUIRED")),
    ({"status": "live"}, one("status", "STATUS_UNKNOWN")),
    ({"stacking": "solo"}, one("stacking", "STACKING_UNKNOWN")),
    ({"priority": 1_001}, one("priority", "PRIORITY_OUT_OF_RANGE")),
    ({"priority": True}, one("priority", "PRIORITY_OUT_OF_RANGE")),
])
def test_identity(changes: dict[str, Any], expected: list[tuple[str, str]]):
    assert problems(campaign(**changes)) == expected


@pytest.mark.parametrize(("trigger", "expected"), [
    (Trigger("sale"), one("trigger.kind", "TRIGGER_UNKNOWN")),  # type: ignore[arg-type]
    (Trigger("purchase", "big"), one("trigger.name", "TRIGGER_NAME_NOT_ALLOWED")),
    (Trigger("event", "tweet"), one("trigger.name", "EVENT_TYPE_UNKNOWN")),
    (Trigger("lifecycle", "wedding"), one("trigger.name", "LIFECYCLE_UNKNOWN")),
    (Trigger("schedule", "Every Day"), one("trigger.name", "SCHEDULE_NAME_INVALID")),
    (Trigger("schedule", ""), one("trigger.name", "SCHEDULE_NAME_INVALID")),
])
def test_trigger(trigger: Trigger, expected: list[tuple[str, str]]):
    assert problems(campaign(trigger=trigger)) == expected


def test_event_types_are_an_argument():
    assert problems(campaign(trigger=Trigger("event", "tweet")),
                    event_types=frozenset({"tweet"})) == []


@pytest.mark.parametrize("field", ["partners", "categories", "skus", "tiers", "segments",
                                   "weekdays", "channels"])
def test_an_empty_set_never_matches(field: str):
    attribute = {"skus": "skus", "partners": "partners"}.get(field, field)
    c = campaign(conditions=Conditions(**{attribute: frozenset()}))
    assert problems(c) == one(f"conditions.{field}", "NEVER_MATCHES")


@pytest.mark.parametrize(("conditions", "expected"), [
    (Conditions(categories=frozenset({"coffee", "tea"})),
     one("conditions.categories", "CATEGORY_UNKNOWN")),
    (Conditions(tiers=frozenset({"bronze"})), one("conditions.tiers", "TIER_UNKNOWN")),
    (Conditions(segments=frozenset({"vip"})), one("conditions.segments", "SEGMENT_UNKNOWN")),
    (Conditions(channels=frozenset({"fax"})), one("conditions.channels", "CHANNEL_UNKNOWN")),
    (Conditions(weekdays=frozenset({7})), one("conditions.weekdays", "WEEKDAY_INVALID")),
    (Conditions(weekdays=frozenset({-1, 2})), one("conditions.weekdays", "WEEKDAY_INVALID")),
    (Conditions(hours=HourWindow(dt.time(9), dt.time(9))),
     one("conditions.hours", "NEVER_MATCHES")),
    (Conditions(min_amount_minor=-1), one("conditions.minAmount", "AMOUNT_NEGATIVE")),
    (Conditions(max_amount_minor=-5), one("conditions.maxAmount", "AMOUNT_NEGATIVE")),
    (Conditions(min_amount_minor=2_001, max_amount_minor=2_000),
     one("conditions.maxAmount", "NEVER_MATCHES")),
])
def test_conditions(conditions: Conditions, expected: list[tuple[str, str]]):
    assert problems(campaign(conditions=conditions)) == expected


def test_known_categories_are_an_argument():
    c = campaign(conditions=Conditions(categories=frozenset({"tea"})))
    assert validate(c, categories=frozenset({"tea"}), tiers=DEFINITIONS) == ()


def test_a_campaign_without_tiers_defined_cannot_name_one():
    c = campaign(conditions=Conditions(tiers=frozenset({"silver"})))
    assert [p.code for p in validate(c, categories=CATEGORIES, tiers=())] == ["TIER_UNKNOWN"]


@pytest.mark.parametrize(("trigger", "conditions", "field"), [
    (BIRTHDAY, Conditions(categories=frozenset({"coffee"})), "conditions.categories"),
    (REVIEW, Conditions(skus=frozenset({"latte"})), "conditions.skus"),
    (BIRTHDAY, Conditions(min_amount_minor=1), "conditions.minAmount"),
    (MONTHLY, Conditions(max_amount_minor=1), "conditions.maxAmount"),
    (REVIEW, Conditions(channels=frozenset({"online"})), "conditions.channels"),
    (Trigger("return"), Conditions(first_at_partner=True), "conditions.firstAtPartner"),
    (MONTHLY, Conditions(partners=frozenset({CAFE})), "conditions.partners"),
    (Trigger("purchase"), Conditions(attributes=(AttributeCondition("rating"),)),
     "conditions.attributes"),
])
def test_conditions_a_trigger_can_never_meet(trigger: Trigger, conditions: Conditions,
                                            field: str):
    assert problems(campaign(trigger=trigger, conditions=conditions)) == one(
        field, "CONDITION_NOT_FOR_TRIGGER")


@pytest.mark.parametrize(("attribute", "code"), [
    (AttributeCondition(""), "ATTRIBUTE_KEY_REQUIRED"),
    (AttributeCondition("rating", one_of=frozenset()), "NEVER_MATCHES"),
    (AttributeCondition("rating", at_least=Decimal(5), at_most=Decimal(4)), "NEVER_MATCHES"),
    (AttributeCondition("rating", at_least=Decimal("NaN")), "NOT_A_NUMBER"),
    (AttributeCondition("rating", at_most=4), "NOT_A_NUMBER"),  # type: ignore[arg-type]
])
def test_attribute_conditions(attribute: AttributeCondition, code: str):
    c = campaign(trigger=REVIEW, conditions=Conditions(attributes=(AttributeCondition("x"),
                                                                   attribute)))
    assert problems(c) == one("conditions.attributes[1]", code)


@pytest.mark.parametrize(("effect", "expected"), [
    (FixedPoints(0), one("effect.points", "POINTS_NOT_POSITIVE")),
    (FixedPoints(-10), one("effect.points", "POINTS_NOT_POSITIVE")),
    (FixedPoints(1_000_001), one("effect.points", "POINTS_TOO_LARGE")),
    (FixedPoints(Decimal("1.5")), one("effect.points", "POINTS_NOT_POSITIVE")),  # type: ignore[arg-type]
    (PointsPerAmount(Decimal(0)), one("effect.rate", "RATE_OUT_OF_RANGE")),
    (PointsPerAmount(Decimal(-1)), one("effect.rate", "RATE_OUT_OF_RANGE")),
    (PointsPerAmount(Decimal(1001)), one("effect.rate", "RATE_OUT_OF_RANGE")),
    (PointsPerAmount(Decimal("Infinity")), one("effect.rate", "NOT_A_NUMBER")),
    (PointsPerAmount(Decimal("0.00001")), one("effect.rate", "TOO_PRECISE")),
    (Multiplier(Decimal(0)), one("effect.factor", "MULTIPLIER_OUT_OF_RANGE")),
    (Multiplier(Decimal(1)), one("effect.factor", "MULTIPLIER_OUT_OF_RANGE")),
    (Multiplier(Decimal("10.0001")), one("effect.factor", "MULTIPLIER_OUT_OF_RANGE")),
    (Multiplier(Decimal(10**9)), one("effect.factor", "MULTIPLIER_OUT_OF_RANGE")),
    (Multiplier(Decimal("NaN")), one("effect.factor", "NOT_A_NUMBER")),
    (Multiplier(2.0), one("effect.factor", "NOT_A_NUMBER")),  # type: ignore[arg-type]
    (IssueReward(404), one("effect.rewardId", "REWARD_UNKNOWN")),
    (IssueReward(8), one("effect.rewardId", "REWARD_NOT_ACTIVE")),
    (LotteryEntries("phone", 2), []),
    (LotteryEntries("nope", 2), one("effect.drawCode", "DRAW_UNKNOWN")),
    (LotteryEntries("drawn", 2), one("effect.drawCode", "DRAW_NOT_OPEN")),
    (LotteryEntries("phone", 0), one("effect.count", "ENTRIES_OUT_OF_RANGE")),
    (LotteryEntries("phone", 101), one("effect.count", "ENTRIES_OUT_OF_RANGE")),
    ("ten points", one("effect", "EFFECT_UNKNOWN")),
])
def test_effects(effect: Any, expected: list[tuple[str, str]]):
    assert problems(campaign(effect=effect), rewards=REWARDS, draws=DRAWS) == expected


REWARDS = {7: "active", 8: "paused"}  # reward id -> status
DRAWS = {"phone": True, "drawn": False}  # draw code -> takes entries


@pytest.mark.parametrize("trigger", [Trigger("purchase"), REVIEW, BIRTHDAY])
def test_an_active_reward_can_be_issued_on_a_fact_with_a_member(trigger: Trigger):
    assert problems(campaign(trigger=trigger, effect=IssueReward(7)), rewards=REWARDS) == []


@pytest.mark.parametrize("trigger", [Trigger("return"), MONTHLY])
def test_a_reward_is_not_issued_on_a_return_or_a_schedule(trigger: Trigger):
    assert problems(campaign(trigger=trigger, effect=IssueReward(7)),
                    rewards=REWARDS) == one("effect.rewardId", "EFFECT_NOT_FOR_TRIGGER")
    assert problems(campaign(trigger=trigger, effect=LotteryEntries("phone", 1)),
                    draws=DRAWS) == one("effect.drawCode", "EFFECT_NOT_FOR_TRIGGER")


def test_the_multiplier_bounds_themselves_are_allowed():
    assert problems(campaign(effect=Multiplier(Decimal("1.0001")))) == []
    assert problems(campaign(effect=Multiplier(Decimal(10)))) == []
    assert problems(campaign(effect=FixedPoints(1_000_000))) == []


@pytest.mark.parametrize(("trigger", "effect", "field"), [
    (REVIEW, PointsPerAmount(Decimal(1)), "effect.rate"),
    (BIRTHDAY, Multiplier(Decimal(2)), "effect.factor"),
    (Trigger("return"), Multiplier(Decimal(2)), "effect.factor"),
])
def test_effects_a_trigger_cannot_feed(trigger: Trigger, effect: Any, field: str):
    assert problems(campaign(trigger=trigger, effect=effect)) == one(field,
                                                                     "EFFECT_NOT_FOR_TRIGGER")


@pytest.mark.parametrize(("limits", "expected"), [
    (Limits(per_member_day=0), one("limits.perMemberDay", "LIMIT_OUT_OF_RANGE")),
    (Limits(per_member_week=-1), one("limits.perMemberWeek", "LIMIT_OUT_OF_RANGE")),
    (Limits(per_member_month=1_000_001), one("limits.perMemberMonth", "LIMIT_OUT_OF_RANGE")),
    (Limits(per_member_campaign=0), one("limits.perMemberCampaign", "LIMIT_OUT_OF_RANGE")),
    (Limits(budget_points=0), one("limits.budgetPoints", "BUDGET_NOT_POSITIVE")),
    (Limits(budget_points=-100), one("limits.budgetPoints", "BUDGET_NOT_POSITIVE")),
    (Limits(budget_points=10**12 + 1), one("limits.budgetPoints", "BUDGET_TOO_LARGE")),
])
def test_limits(limits: Limits, expected: list[tuple[str, str]]):
    assert problems(campaign(limits=limits)) == expected


def test_a_budget_below_what_was_already_spent():
    c = campaign(limits=Limits(budget_points=5_000))
    assert problems(c, spent_points=5_001) == one("limits.budgetPoints", "BUDGET_BELOW_SPENT")
    assert problems(c, spent_points=5_000) == []


def test_window():
    naive = dt.datetime(2026, 6, 6)
    assert problems(campaign(starts_at=naive)) == one("startsAt", "TIME_WITHOUT_ZONE")
    assert problems(campaign(ends_at=naive)) == one("endsAt", "TIME_WITHOUT_ZONE")
    assert problems(campaign(ends_at=LAUNCH)) == one("endsAt", "WINDOW_EMPTY")
    assert problems(campaign(ends_at=LAUNCH - dt.timedelta(seconds=1))) == one(
        "endsAt", "WINDOW_EMPTY")


@pytest.mark.parametrize(("funder", "expected"), [
    ((), one("funder", "FUNDER_REQUIRED")),
    (split_funder((CAFE, 5_000), (NETWORK, 4_999)), one("funder", "SHARES_NOT_WHOLE")),
    (split_funder((CAFE, 6_000), (NETWORK, 6_000)), one("funder", "SHARES_NOT_WHOLE")),
    (split_funder((CAFE, 10_001), (NETWORK, -1)),
     [("funder[0].share", "SHARE_OUT_OF_RANGE"), ("funder[1].share", "SHARE_OUT_OF_RANGE")]),
    (split_funder((CAFE, 10_000), (NETWORK, 0)), one("funder[1].share", "SHARE_OUT_OF_RANGE")),
    (split_funder((CAFE, 5_000), (CAFE, 5_000)), one("funder", "FUNDER_DUPLICATE")),
    ((FunderShare(CAFE, 1.5),), [("funder[0].share", "SHARE_OUT_OF_RANGE"),  # type: ignore[arg-type]
                                 ("funder", "SHARES_NOT_WHOLE")]),
])
def test_funder(funder: tuple[FunderShare, ...], expected: list[tuple[str, str]]):
    assert problems(campaign(funder=funder)) == expected


def test_every_problem_is_reported_at_once():
    c = campaign(code="", effect=Multiplier(Decimal(0)), funder=(),
                 limits=Limits(budget_points=0), ends_at=LAUNCH)
    assert problems(c) == [("code", "CODE_INVALID"), ("effect.factor", "MULTIPLIER_OUT_OF_RANGE"),
                           ("limits.budgetPoints", "BUDGET_NOT_POSITIVE"),
                           ("endsAt", "WINDOW_EMPTY"), ("funder", "FUNDER_REQUIRED")]


# --- overlapping exclusive campaigns ------------------------------------------------------

DAY = dt.timedelta(days=1)


def exclusive(id: int, start_day: int, end_day: int | None, **kw: Any) -> Campaign:
    values: dict[str, Any] = {"stacking": "exclusive", "starts_at": LAUNCH + start_day * DAY,
                              "ends_at": None if end_day is None else LAUNCH + end_day * DAY}
    return campaign(id, **(values | kw))


@pytest.mark.parametrize(("mine", "theirs", "overlap"), [
    ((0, 10), (5, 15), True),
    ((5, 15), (0, 10), True),
    ((0, 10), (2, 3), True),  # inside
    ((0, 10), (10, 20), False),  # touching: half-open windows share no instant
    ((10, 20), (0, 10), False),
    ((0, None), (100, 200), True),  # open-ended
    ((0, 10), (9, None), True),
    ((0, 10), (11, None), False),
])
def test_overlap_is_half_open_windows_sharing_an_instant(mine, theirs, overlap: bool):
    found = problems(exclusive(1, *mine), others=[exclusive(2, *theirs)])
    assert found == (one("startsAt", "WINDOW_OVERLAP") if overlap else [])


@pytest.mark.parametrize(("other", "overlap"), [
    (exclusive(2, 0, 10), True),
    (exclusive(2, 0, 10, conditions=Conditions(partners=frozenset({CAFE, SHOP}))), True),
    (exclusive(2, 0, 10, conditions=Conditions(partners=frozenset({SHOP}))), False),
    (exclusive(2, 0, 10, trigger=REVIEW), False),  # another slot
    (exclusive(2, 0, 10, stacking="stackable"), False),
    (exclusive(2, 0, 10, status="paused"), True),  # it may resume
    (exclusive(2, 0, 10, status="draft"), False),  # checked again when it is activated
    (exclusive(2, 0, 10, status="ended"), False),
    (exclusive(1, 0, 10), False),  # itself, as stored before this edit
    # Different tiers still share the slot: only trigger and partner define it.
    (exclusive(2, 0, 10, conditions=Conditions(tiers=frozenset({"gold"}))), True),
])
def test_overlap_needs_the_same_slot(other: Campaign, overlap: bool):
    mine = exclusive(1, 0, 10, conditions=Conditions(partners=frozenset({CAFE})))
    found = problems(mine, others=[other])
    assert found == (one("startsAt", "WINDOW_OVERLAP") if overlap else [])
    if overlap:
        assert other.code in validate(mine, categories=CATEGORIES, tiers=DEFINITIONS,
                                      others=[other])[0].message


def test_stackable_and_ended_campaigns_are_not_checked_for_overlap():
    other = exclusive(2, 0, 10)
    assert problems(exclusive(1, 0, 10, stacking="stackable"), others=[other]) == []
    assert problems(exclusive(1, 0, 10, status="ended"), others=[other]) == []
