"""Campaign <-> JSON document: every campaign survives the trip, and a bad document names its
fields."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    Conditions,
    FixedPoints,
    HourWindow,
    IssueReward,
    Limits,
    LotteryEntries,
    Multiplier,
    PointsPerAmount,
    Trigger,
    split_funder,
)
from network.programme.codec import CampaignDocumentError, from_document, to_document
from tests.network.programme.values import CAFE, NETWORK, TEHRAN, campaign

decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4,
                       allow_nan=False, allow_infinity=False)
small = st.integers(min_value=1, max_value=10**6)
times = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 1, 1),
                     # A document keeps the offset, not the zone's name: fixed offsets round-trip.
                     timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3.5)),
                                                dt.timezone(dt.timedelta(hours=-5))]))
words = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
opt_set = lambda values: st.none() | st.frozensets(values, min_size=1, max_size=3)  # noqa: E731
effects = st.one_of(st.builds(FixedPoints, small), st.builds(PointsPerAmount, decimals),
                    st.builds(Multiplier, decimals), st.builds(IssueReward, small),
                    st.builds(LotteryEntries, words, small))
attribute_values = st.one_of(words, st.integers(-5, 5), st.booleans(), decimals)
conditions = st.builds(
    Conditions, partners=opt_set(st.integers(1, 99)), categories=opt_set(words),
    skus=opt_set(words), min_amount_minor=st.none() | st.integers(0, 10**6),
    max_amount_minor=st.none() | st.integers(0, 10**6), tiers=opt_set(words),
    segments=opt_set(words), weekdays=opt_set(st.integers(0, 6)),
    hours=st.none() | st.builds(HourWindow, st.times().map(lambda t: t.replace(second=0,
                                                                              microsecond=0)),
                                st.times().map(lambda t: t.replace(second=0, microsecond=0))),
    channels=opt_set(st.sampled_from(["in_store", "online", "app"])),
    first_at_partner=st.booleans(),
    attributes=st.lists(st.builds(AttributeCondition, words,
                                  st.none() | st.frozensets(attribute_values, min_size=1,
                                                            max_size=3),
                                  st.none() | decimals, st.none() | decimals),
                        max_size=2).map(tuple))
limits = st.builds(Limits, *(st.none() | small for _ in range(5)))
campaigns = st.builds(
    Campaign, id=st.integers(1, 10**9), code=words, name_en=words, name_fa=st.just("کمپین"),
    trigger=st.builds(Trigger, st.sampled_from(["purchase", "event", "lifecycle"]),
                      words | st.just("")),
    effect=effects, funder=st.lists(st.tuples(st.integers(1, 99), st.integers(1, 10_000)),
                                    min_size=1, max_size=3).map(lambda p: split_funder(*p)),
    starts_at=times, ends_at=st.none() | times, conditions=conditions, limits=limits,
    status=st.sampled_from(["draft", "active", "paused", "ended"]),
    priority=st.integers(-1000, 1000), stacking=st.sampled_from(["stackable", "exclusive"]))


@settings(max_examples=300, deadline=None)
@given(campaigns)
def test_every_campaign_survives_a_trip_through_json(c):
    text = json.dumps(to_document(c))
    back = from_document(json.loads(text), id=c.id)
    assert back == c
    assert back.starts_at.utcoffset() == c.starts_at.utcoffset()


def test_the_document_uses_validations_field_names_and_strings_for_decimals():
    c = campaign(effect=Multiplier(Decimal("1.5")), funder=split_funder((CAFE, 5000),
                                                                       (NETWORK, 5000)),
                 conditions=Conditions(max_amount_minor=5000, channels=frozenset({"online"})),
                 limits=Limits(per_member_day=1, budget_points=10_000),
                 ends_at=dt.datetime(2026, 7, 1, tzinfo=TEHRAN))
    doc = to_document(c)
    assert doc["effect"] == {"kind": "multiplier", "factor": "1.5"}
    assert doc["conditions"] == {"maxAmount": 5000, "channels": ["online"]}
    assert doc["limits"] == {"perMemberDay": 1, "budgetPoints": 10_000}
    assert doc["funder"] == [{"partyId": CAFE, "share": 5000}, {"partyId": NETWORK, "share": 5000}]
    assert doc["endsAt"] == "2026-07-01T00:00:00+03:30"
    assert "id" not in doc


def _fields(doc):
    with pytest.raises(CampaignDocumentError) as caught:
        from_document(doc)
    return {(p.field, p.code) for p in caught.value.problems}


def test_a_bad_document_names_every_field_at_fault():
    doc = to_document(campaign())
    doc.update(startsAt="2026-06-01T00:00:00", priority="high", colour="red")
    doc["effect"] = {"kind": "multiplier", "factor": 2.5}
    doc["conditions"] = {"maxAmount": "5000", "weekdays": ["friday"], "hours": {"start": "25:00",
                                                                              "end": "02:00"}}
    del doc["nameFa"]
    assert _fields(doc) == {
        ("startsAt", "TIME_INVALID"), ("priority", "WRONG_TYPE"), ("colour", "FIELD_UNKNOWN"),
        ("effect.factor", "NOT_A_NUMBER"), ("conditions.maxAmount", "WRONG_TYPE"),
        ("conditions.weekdays", "WRONG_TYPE"), ("conditions.hours.start", "TIME_INVALID"),
        ("nameFa", "FIELD_REQUIRED")}


def test_missing_parts_and_unknown_effects_are_named():
    assert _fields({"code": "x", "nameEn": "X", "nameFa": "ایکس", "trigger": {"kind": "purchase"},
                    "effect": {"kind": "cashback"}, "startsAt": "2026-01-01T00:00:00Z"}) == {
        ("effect.kind", "EFFECT_UNKNOWN"), ("funder", "FIELD_REQUIRED")}
    assert _fields([1, 2]) == {("", "WRONG_TYPE")}
    doc = to_document(campaign())
    doc["funder"] = [{"partyId": True, "share": 10_000}]
    assert _fields(doc) == {("funder[0].partyId", "WRONG_TYPE")}


def test_explanation_names_are_kept_for_a_minute_per_database() -> None:
    from network.programme import explain

    explain.forget_names()
    first = explain.shared_names("sqlite:///a.db", now=100.0)
    assert explain.shared_names("sqlite:///a.db", now=100.0 + explain.NAMES_TTL - 1) is first
    assert explain.shared_names("sqlite:///b.db", now=101.0) is not first
    assert explain.shared_names("sqlite:///a.db", now=100.0 + explain.NAMES_TTL) is not first
    explain.forget_names()
