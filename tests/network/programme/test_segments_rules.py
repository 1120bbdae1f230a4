"""Segments' pure parts: rules as data, the CSV of cards, RFM quintiles and the segment map."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from network import cards
from network.programme.segments import (
    RFM_CODES,
    RFM_SEGMENTS,
    Activity,
    EnrolledDays,
    MemberFacts,
    Range,
    RfmFacts,
    SegmentError,
    TierIn,
    Visited,
    WindowActivity,
    check_code,
    matches,
    parse_card_csv,
    parse_rule,
    quintile_scores,
    rfm_segment,
    score_rfm,
    unknown_cards,
)
from network.programme.tiers import DEFINITIONS

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
PARTNERS = {"cafe": 11, "shop": 12}


def card(body: str) -> str:
    body = body.ljust(15, "0")
    return body + cards.luhn_check_digit(body)


def member(*, enrolled_days: int = 100, tier: str | None = "blue",
           windows: dict[int, WindowActivity] | None = None) -> MemberFacts:
    return MemberFacts(1, NOW - dt.timedelta(days=enrolled_days), tier, windows or {})


def test_a_rule_parses_into_its_conditions_and_names_its_windows():
    rule = parse_rule({"all": [
        {"tier": ["silver", "gold"]},
        {"enrolled_days": {"at_least": 30}},
        {"visited": {"partner": "cafe", "days": 30}},
        {"earned": {"days": 90, "at_least": 1000}},
        {"spent": {"days": 90, "below": 500}},
    ]}, partner_ids=PARTNERS, tiers=DEFINITIONS)
    assert rule.conditions == (
        TierIn(frozenset({"silver", "gold"})), EnrolledDays(Range(30, None)), Visited(11, 30),
        Activity("earned", 90, Range(1000, None)), Activity("spent", 90, Range(None, 500)))
    assert rule.windows == {30, 90}
    assert rule.needs_tier


@pytest.mark.parametrize(("data", "code", "field"), [
    ({}, "RULE_INVALID", "rule.all"),
    ({"all": []}, "RULE_INVALID", "rule.all"),
    ({"any": [{"tier": ["gold"]}]}, "RULE_INVALID", "rule"),
    ([1], "RULE_INVALID", "rule"),
    ({"all": [{"tier": ["gold"], "spent": {}}]}, "RULE_INVALID", "rule.all[0]"),
    ({"all": [{"age": {"at_least": 3}}]}, "RULE_UNKNOWN_CONDITION", "rule.all[0].age"),
    ({"all": [{"tier": ["diamond"]}]}, "RULE_UNKNOWN_TIER", "rule.all[0].tier"),
    ({"all": [{"tier": []}]}, "RULE_INVALID", "rule.all[0].tier"),
    ({"all": [{"tier": ["gold"]}, {"visited": {"partner": "bank", "days": 3}}]},
     "RULE_UNKNOWN_PARTNER", "rule.all[1].visited.partner"),
    ({"all": [{"visited": {"partner": "cafe", "days": 0}}]}, "RULE_BAD_WINDOW",
     "rule.all[0].visited.days"),
    ({"all": [{"visited": {"partner": "cafe"}}]}, "RULE_BAD_WINDOW", "rule.all[0].visited.days"),
    ({"all": [{"earned": {"days": 99999, "at_least": 1}}]}, "RULE_BAD_WINDOW",
     "rule.all[0].earned.days"),
    ({"all": [{"earned": {"days": "30", "at_least": 1}}]}, "RULE_BAD_WINDOW",
     "rule.all[0].earned.days"),
    ({"all": [{"earned": {"days": 30}}]}, "RULE_BAD_THRESHOLD", "rule.all[0].earned"),
    ({"all": [{"earned": {"days": 30, "at_least": 1.5}}]}, "RULE_BAD_THRESHOLD",
     "rule.all[0].earned.at_least"),
    ({"all": [{"spent": {"days": 30, "at_least": True}}]}, "RULE_BAD_THRESHOLD",
     "rule.all[0].spent.at_least"),
    ({"all": [{"spent": {"days": 30, "at_least": 500, "below": 500}}]}, "RULE_BAD_THRESHOLD",
     "rule.all[0].spent"),
    ({"all": [{"spent": {"days": 30, "below": 0}}]}, "RULE_BAD_THRESHOLD",
     "rule.all[0].spent.below"),
    ({"all": [{"enrolled_days": {"at_least": -1}}]}, "RULE_BAD_THRESHOLD",
     "rule.all[0].enrolled_days"),
    ({"all": [{"enrolled_days": {"at_least": 1, "days": 3}}]}, "RULE_INVALID",
     "rule.all[0].enrolled_days"),
])
def test_a_bad_rule_is_refused_with_a_code_and_its_place(data, code, field):
    with pytest.raises(SegmentError) as refused:
        parse_rule(data, partner_ids=PARTNERS, tiers=DEFINITIONS)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message.startswith(field)


def test_each_condition_reads_its_own_fact():
    busy = {30: WindowActivity(earned=1_000, spent=200, partners=frozenset({11}))}
    cases = [
        ({"tier": ["silver", "gold"]}, member(tier="silver"), member(tier="blue")),
        ({"enrolled_days": {"at_least": 30, "below": 60}}, member(enrolled_days=30),
         member(enrolled_days=60)),
        ({"visited": {"partner": "cafe", "days": 30}}, member(windows=busy),
         member(windows={30: WindowActivity(partners=frozenset({12}))})),
        ({"earned": {"days": 30, "at_least": 1_000}}, member(windows=busy),
         member(windows={30: WindowActivity(earned=999)})),
        ({"spent": {"days": 30, "below": 201}}, member(windows=busy),
         member(windows={30: WindowActivity(spent=201)})),
        # no activity gathered for the window reads as none at all
        ({"spent": {"days": 30, "below": 1}}, member(), member(windows=busy)),
    ]
    for condition, inside, outside in cases:
        rule = parse_rule({"all": [condition]}, partner_ids=PARTNERS, tiers=DEFINITIONS)
        assert matches(rule, inside, NOW), condition
        assert not matches(rule, outside, NOW), condition


def test_every_condition_must_hold():
    rule = parse_rule({"all": [{"tier": ["gold"]}, {"visited": {"partner": "shop", "days": 7}}]},
                      partner_ids=PARTNERS, tiers=DEFINITIONS)
    seen = {7: WindowActivity(partners=frozenset({12}))}
    assert matches(rule, member(tier="gold", windows=seen), NOW)
    assert not matches(rule, member(tier="silver", windows=seen), NOW)
    assert not matches(rule, member(tier="gold"), NOW)


@pytest.mark.parametrize("code", ["", "VIP", "-vip", "a" * 65, "vip list", "ویژه"])
def test_segment_codes_are_lower_case_identifiers(code):
    with pytest.raises(SegmentError) as refused:
        check_code(code)
    assert refused.value.code == "SEGMENT_CODE_INVALID"


def test_the_card_csv_reports_every_bad_line_by_its_number():
    good, other = card("7012"), card("7034")
    bad_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    text = "\n".join(["card_number", good, "", f"{other[:4]} {other[4:8]}-{other[8:]},x",
                      bad_digit, "abc", good, "۷" + other[1:], '"' + card("7056") + '"'])
    parsed = parse_card_csv(text)
    assert dict(parsed.cards) == {good: 2, other: 4, card("7056"): 9}
    assert [(p.line, p.code) for p in parsed.problems] == [
        (5, "CARD_CHECK_DIGIT"), (6, "CARD_MALFORMED"), (7, "CARD_DUPLICATE"),
        (8, "CARD_DUPLICATE")]
    assert "already on line 2" in parsed.problems[2].message
    assert [(p.line, p.code) for p in unknown_cards(parsed, {good, other})] == [
        (9, "CARD_UNKNOWN")]


def test_a_header_only_counts_on_the_first_line():
    parsed = parse_card_csv(card("70") + "\ncard_number\n")
    assert [(p.line, p.code) for p in parsed.problems] == [(2, "CARD_MALFORMED")]


# --- RFM ---------------------------------------------------------------------------------------

@given(st.lists(st.integers(min_value=-10**6, max_value=10**6), min_size=1, max_size=300))
def test_quintile_scores_are_1_to_5_and_monotone(values):
    scores = quintile_scores(values)
    assert len(scores) == len(values)
    assert all(1 <= s <= 5 for s in scores)
    pairs = sorted(zip(values, scores, strict=True))
    for (v1, s1), (v2, s2) in zip(pairs, pairs[1:], strict=False):
        assert s1 <= s2  # a larger value never scores lower
        if v1 == v2:
            assert s1 == s2  # equal values share a score
    assert scores[values.index(min(values))] == 1


@given(st.lists(st.integers(), min_size=5, max_size=300, unique=True))
def test_distinct_values_fill_every_quintile_about_evenly(values):
    scores = quintile_scores(values)
    n = len(values)
    for score in range(1, 6):
        count = scores.count(score)
        assert n // 5 <= count <= n // 5 + 1


def test_the_segment_map_partitions_the_grid():
    cells = [(code, r, f) for code, _en, _fa, rs, fs in RFM_SEGMENTS for r in rs for f in fs]
    assert sorted((r, f) for _c, r, f in cells) == [(r, f) for r in range(1, 6)
                                                   for f in range(1, 6)]
    assert all(rfm_segment(r, f) == code for code, r, f in cells)
    assert len(set(RFM_CODES)) == 10 and all(c.startswith("rfm-") for c in RFM_CODES)
    assert all(en.strip() and fa.strip() for _c, en, fa, _r, _f in RFM_SEGMENTS)
    with pytest.raises(ValueError):
        rfm_segment(0, 3)


def test_recent_frequent_members_are_champions_and_quiet_ones_hibernate():
    rows = [RfmFacts(i, NOW - dt.timedelta(days=100 - 10 * i), frequency=i + 1,
                     monetary=100 * (i + 1)) for i in range(10)]
    scored = {s.member_id: s for s in score_rfm(rows)}
    assert (scored[9].recency, scored[9].frequency, scored[9].monetary) == (5, 5, 5)
    assert scored[9].segment == "rfm-champions"
    assert (scored[0].recency, scored[0].frequency, scored[0].segment) == (
        1, 1, "rfm-hibernating")
    # long gone but used to come often: at risk
    lapsed = RfmFacts(99, NOW - dt.timedelta(days=300), frequency=8, monetary=50)
    assert {s.member_id: s for s in score_rfm([*rows, lapsed])}[99].segment == "rfm-at-risk"
    assert score_rfm([]) == []
