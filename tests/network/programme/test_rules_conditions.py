"""Every campaign condition, each shown both matching and not matching, through `evaluate`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from network.money import Money
from network.programme.campaigns import (
    AttributeCondition,
    Conditions,
    HourWindow,
    Trigger,
    tiers_from,
)
from network.programme.facts import (
    CustomEvent,
    Fact,
    LifecycleEvent,
    MemberState,
    Return,
    ScheduledRun,
)
from network.programme.index import build
from network.programme.rules import evaluate
from network.programme.tiers import DEFINITIONS

from .values import (
    CAFE,
    MEMBER,
    PROGRAMME,
    SATURDAY_AFTERNOON,
    SHOP,
    SILVER,
    TEHRAN,
    campaign,
    lines,
    purchase,
    replace,
)


def applies(conditions: Conditions, fact: Fact, member: MemberState = SILVER,
            **campaign_fields: Any) -> bool:
    plan = evaluate(fact, member, build([campaign(conditions=conditions, **campaign_fields)]),
                    base_points=125 if fact.__class__.__name__ == "Purchase" else 0,
                    programme=PROGRAMME)
    assert plan.skipped == ()
    return [e.code for e in plan.effects] == ["c1"]


def at_tehran(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TEHRAN).astimezone(dt.UTC)


def test_no_conditions_match_every_purchase():
    assert applies(Conditions(), purchase())


@pytest.mark.parametrize(("partners", "expected"), [
    (frozenset({CAFE}), True), (frozenset({SHOP, CAFE}), True), (frozenset({SHOP}), False)])
def test_partner(partners: frozenset[int], expected: bool):
    assert applies(Conditions(partners=partners), purchase()) is expected


@pytest.mark.parametrize(("basket", "expected"), [
    (lines(("espresso", "coffee", 300)), True),
    (lines(("croissant", "pastry", 250), ("latte", "coffee", 450)), True),
    (lines(("croissant", "pastry", 250)), False),
    ((), False)])
def test_category_needs_a_line_in_it(basket, expected: bool):
    assert applies(Conditions(categories=frozenset({"coffee"})), purchase(lines=basket)) is expected


@pytest.mark.parametrize(("sku", "expected"), [("beans-1kg", True), ("beans-250g", False)])
def test_sku(sku: str, expected: bool):
    fact = purchase(lines=lines((sku, "beans", 1250)))
    assert applies(Conditions(skus=frozenset({"beans-1kg"})), fact) is expected


@pytest.mark.parametrize(("amount", "expected"), [
    (999, False), (1000, True), (1250, True), (2000, True), (2001, False)])
def test_amount_bounds_are_inclusive(amount: int, expected: bool):
    conditions = Conditions(min_amount_minor=1000, max_amount_minor=2000)
    assert applies(conditions, purchase(amount=Money(amount, "EUR"))) is expected


@pytest.mark.parametrize(("tier", "expected"), [
    ("blue", False), ("silver", True), ("gold", True), ("platinum", True), (None, False)])
def test_tier_silver_and_above(tier: str | None, expected: bool):
    conditions = Conditions(tiers=tiers_from(DEFINITIONS, "silver"))
    assert applies(conditions, purchase(), replace(SILVER, tier=tier)) is expected


def test_tiers_from_refuses_an_unknown_tier():
    with pytest.raises(ValueError, match="no tier 'bronze'"):
        tiers_from(DEFINITIONS, "bronze")


@pytest.mark.parametrize(("segments", "expected"), [
    (frozenset({"students"}), True), (frozenset({"students", "staff"}), True),
    (frozenset({"staff"}), False)])
def test_segment_any_of(segments: frozenset[str], expected: bool):
    assert applies(Conditions(segments=segments), purchase()) is expected


def test_weekday_is_read_in_the_networks_zone():
    # Friday 23:00 UTC is already Saturday 02:30 in Tehran.
    late_friday_utc = dt.datetime(2026, 6, 5, 23, 0, tzinfo=dt.UTC)
    saturday = Conditions(weekdays=frozenset({5}))
    assert applies(saturday, purchase(at=late_friday_utc))
    assert not applies(Conditions(weekdays=frozenset({4})), purchase(at=late_friday_utc))


@pytest.mark.parametrize(("local", "expected"), [
    ((2026, 6, 6, 8, 59), False), ((2026, 6, 6, 9, 0), True), ((2026, 6, 6, 11, 59), True),
    ((2026, 6, 6, 12, 0), False)])
def test_hours_are_half_open_and_local(local: tuple[int, ...], expected: bool):
    conditions = Conditions(hours=HourWindow(dt.time(9), dt.time(12)))
    assert applies(conditions, purchase(at=at_tehran(*local))) is expected


@pytest.mark.parametrize(("local", "expected"), [
    ((2026, 6, 6, 21, 59), False), ((2026, 6, 6, 22, 0), True), ((2026, 6, 7, 1, 59), True),
    ((2026, 6, 7, 2, 0), False), ((2026, 6, 6, 12, 0), False)])
def test_hours_may_wrap_midnight(local: tuple[int, ...], expected: bool):
    conditions = Conditions(hours=HourWindow(dt.time(22), dt.time(2)))
    assert applies(conditions, purchase(at=at_tehran(*local))) is expected


@pytest.mark.parametrize(("channel", "expected"), [("online", True), ("in_store", False)])
def test_channel(channel: str, expected: bool):
    assert applies(Conditions(channels=frozenset({"online", "app"})),
                   purchase(channel=channel)) is expected


@pytest.mark.parametrize(("first", "expected"), [(True, True), (False, False)])
def test_first_purchase_at_partner(first: bool, expected: bool):
    assert applies(Conditions(first_at_partner=True), purchase(first_at_partner=first)) is expected


def test_window_is_half_open():
    start, end = at_tehran(2026, 6, 6, 0, 0), at_tehran(2026, 6, 8, 0, 0)
    for at, expected in ((start - dt.timedelta(microseconds=1), False), (start, True),
                         (end - dt.timedelta(microseconds=1), True), (end, False)):
        assert applies(Conditions(), purchase(at=at), starts_at=start, ends_at=end) is expected


def review(**attributes: object) -> CustomEvent:
    return CustomEvent("review", CAFE, MEMBER, SATURDAY_AFTERNOON, attributes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("attributes", "expected"), [
    ({"rating": 5, "verified": True}, True),
    ({"rating": Decimal("4"), "verified": True}, True),
    ({"rating": 3, "verified": True}, False),
    ({"rating": 5, "verified": False}, False),
    ({"rating": 5, "verified": 1}, False),  # 1 is not True here, though 1 == True in Python
    ({"rating": "5", "verified": True}, False),  # a bound needs a number
    ({"verified": True}, False),  # the attribute must be present
])
def test_event_attributes(attributes: dict[str, object], expected: bool):
    conditions = Conditions(attributes=(
        AttributeCondition("rating", at_least=Decimal(4), at_most=Decimal(5)),
        AttributeCondition("verified", one_of=frozenset({True}))))
    assert applies(conditions, review(**attributes), trigger=Trigger("event", "review")) is expected


def test_an_attribute_condition_without_values_asks_only_for_presence():
    conditions = Conditions(attributes=(AttributeCondition("photo"),))
    trigger = Trigger("event", "review")
    assert applies(conditions, review(photo="https://x/1.jpg"), trigger=trigger)
    assert not applies(conditions, review(text="nice"), trigger=trigger)


def test_an_event_triggers_only_campaigns_of_its_type():
    trigger = Trigger("event", "survey_completed")
    assert not applies(Conditions(), review(), trigger=trigger)
    survey = CustomEvent("survey_completed", CAFE, MEMBER, SATURDAY_AFTERNOON)
    assert applies(Conditions(), survey, trigger=trigger)


def test_lifecycle_events_and_schedules_match_by_name():
    birthday = LifecycleEvent("birthday", MEMBER, SATURDAY_AFTERNOON)
    assert applies(Conditions(), birthday, trigger=Trigger("lifecycle", "birthday"))
    assert not applies(Conditions(), birthday, trigger=Trigger("lifecycle", "enrolled"))
    tick = ScheduledRun("monthly", MEMBER, SATURDAY_AFTERNOON)
    assert applies(Conditions(tiers=frozenset({"silver"})), tick,
                   trigger=Trigger("schedule", "monthly"))


def test_a_lifecycle_event_without_a_partner_misses_a_partner_condition():
    enrolled = LifecycleEvent("enrolled", MEMBER, SATURDAY_AFTERNOON)
    trigger = Trigger("lifecycle", "enrolled")
    assert not applies(Conditions(partners=frozenset({CAFE})), enrolled, trigger=trigger)
    assert applies(Conditions(partners=frozenset({CAFE})),
                   replace(enrolled, partner_id=CAFE), trigger=trigger)


def test_tier_changed_attributes_say_from_and_to():
    changed = LifecycleEvent("tier_changed", MEMBER, SATURDAY_AFTERNOON,
                             attributes={"from": "silver", "to": "gold"})
    trigger = Trigger("lifecycle", "tier_changed")
    to_gold = Conditions(attributes=(AttributeCondition("to", one_of=frozenset({"gold"})),))
    to_platinum = Conditions(attributes=(
        AttributeCondition("to", one_of=frozenset({"platinum"})),))
    assert applies(to_gold, changed, trigger=trigger)
    assert not applies(to_platinum, changed, trigger=trigger)


def test_sales_conditions_never_hold_for_facts_that_are_not_sales():
    # Validation refuses such campaigns; evaluation is safe all the same.
    birthday = LifecycleEvent("birthday", MEMBER, SATURDAY_AFTERNOON, partner_id=CAFE)
    assert not applies(Conditions(min_amount_minor=0), birthday,
                       trigger=Trigger("lifecycle", "birthday"))


def test_a_return_matches_return_campaigns_only():
    back = Return(CAFE, MEMBER, Money(1250, "EUR"), SATURDAY_AFTERNOON)
    assert applies(Conditions(), back, trigger=Trigger("return"))
    assert not applies(Conditions(), back)  # the default campaign is a purchase campaign
