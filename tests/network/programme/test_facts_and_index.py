"""Facts are immutable and aware of their time zone; the index finds campaigns by trigger and
partner, in evaluation order, without looking at anything else."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from network.money import Money
from network.programme.campaigns import Conditions, Trigger
from network.programme.facts import (
    CustomEvent,
    LifecycleEvent,
    Purchase,
    Return,
    ScheduledRun,
)
from network.programme.index import EMPTY, build
from network.programme.rules import trigger_of

from .values import CAFE, MEMBER, SATURDAY_AFTERNOON, SHOP, campaign, purchase

NAIVE = dt.datetime(2026, 6, 6, 14, 30)


@pytest.mark.parametrize("make", [
    lambda at: Purchase(CAFE, MEMBER, Money(100, "EUR"), at),
    lambda at: Return(CAFE, MEMBER, Money(100, "EUR"), at),
    lambda at: CustomEvent("review", CAFE, MEMBER, at),
    lambda at: LifecycleEvent("birthday", MEMBER, at),
    lambda at: ScheduledRun("monthly", MEMBER, at),
])
def test_a_fact_needs_an_aware_time(make):
    with pytest.raises(ValueError, match="timezone-aware"):
        make(NAIVE)
    assert make(SATURDAY_AFTERNOON).at == SATURDAY_AFTERNOON


def test_the_network_raises_only_known_lifecycle_events_and_sales_name_a_known_channel():
    with pytest.raises(ValueError, match="lifecycle kind"):
        LifecycleEvent("brithday", MEMBER, SATURDAY_AFTERNOON)
    for make in (Purchase, Return):
        with pytest.raises(ValueError, match="channel"):
            make(CAFE, MEMBER, Money(100, "EUR"), SATURDAY_AFTERNOON, channel="fax")
        assert make(CAFE, MEMBER, Money(100, "EUR"), SATURDAY_AFTERNOON, channel="app")


def test_facts_cannot_change_after_the_rules_read_them():
    sent = {"rating": 5}
    event = CustomEvent("review", CAFE, MEMBER, SATURDAY_AFTERNOON, sent)
    sent["rating"] = 1
    assert event.attributes["rating"] == 5
    with pytest.raises(TypeError):
        event.attributes["rating"] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.member_id = 8  # type: ignore[misc]


@pytest.mark.parametrize(("fact", "key"), [
    (purchase(), ("purchase", "")),
    (Return(CAFE, MEMBER, Money(1, "EUR"), SATURDAY_AFTERNOON), ("return", "")),
    (CustomEvent("survey_completed", CAFE, MEMBER, SATURDAY_AFTERNOON),
     ("event", "survey_completed")),
    (LifecycleEvent("enrolled", MEMBER, SATURDAY_AFTERNOON), ("lifecycle", "enrolled")),
    (ScheduledRun("monthly", MEMBER, SATURDAY_AFTERNOON), ("schedule", "monthly")),
])
def test_each_fact_has_its_trigger_key(fact, key):
    assert trigger_of(fact) == key


def test_trigger_of_refuses_what_is_not_a_fact():
    with pytest.raises(TypeError):
        trigger_of("purchase")  # type: ignore[arg-type]


def test_the_index_holds_active_campaigns_by_trigger_and_partner_in_order():
    cafe_only = Conditions(partners=frozenset({CAFE}))
    index = build([
        campaign(1), campaign(2, priority=9, conditions=cafe_only),
        campaign(3, trigger=Trigger("event", "review")),
        campaign(4, conditions=Conditions(partners=frozenset({CAFE, SHOP}))),
        campaign(5, status="paused")])
    ids = lambda found: [r.campaign.id for r in found]  # noqa: E731
    assert ids(index.candidates(("purchase", ""), CAFE)) == [2, 1, 4]
    assert ids(index.candidates(("purchase", ""), SHOP)) == [1, 4]
    assert ids(index.candidates(("purchase", ""), 99)) == [1]
    assert ids(index.candidates(("purchase", ""), None)) == [1]
    assert ids(index.candidates(("event", "review"), CAFE)) == [3]
    assert index.candidates(("event", "survey_completed"), CAFE) == ()
    assert index.size == 4 and EMPTY.size == 0
    assert EMPTY.candidates(("purchase", ""), CAFE) == ()


def test_the_index_returns_the_same_tuple_every_time():
    # No list is built per lookup: the earn path reads a prepared tuple.
    index = build([campaign(1), campaign(2, conditions=Conditions(partners=frozenset({CAFE})))])
    assert index.candidates(("purchase", ""), CAFE) is index.candidates(("purchase", ""), CAFE)
    assert index.candidates(("purchase", ""), 99) is index.candidates(("purchase", ""), 98)
