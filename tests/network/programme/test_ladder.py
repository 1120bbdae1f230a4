"""The tier ladder document and its one validation (pure): what the console form and
`pointsnet programme tiers set` both refuse, each problem with its field and code."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from network.programme import ladder, tiers
from network.programme.tiers import DEFINITIONS

SEED = ladder.to_document(DEFINITIONS)


def _doc(**changes):
    """The seed's document with `changes`: "windowDays" at the top, or "N.key" for tier N
    (a value of None removes the key)."""
    doc = copy.deepcopy(SEED)
    for key, value in changes.items():
        where, _, field = key.partition("__")
        target = doc if not field else doc["tiers"][int(where.removeprefix("t"))]
        name = field or where
        if value is None:
            target.pop(name)
        else:
            target[name] = value
    return doc


def _codes(doc, in_use=None):
    found, problems = ladder.from_document(doc, in_use=in_use)
    assert (found == ()) == bool(problems)  # a ladder or problems, never both
    return {(p.field, p.code) for p in problems}


def test_the_seed_is_a_valid_ladder_and_its_document_round_trips():
    assert ladder.validate(DEFINITIONS) == ()
    found, problems = ladder.from_document(SEED)
    assert problems == () and found == DEFINITIONS
    assert SEED["windowDays"] == 365 and SEED["tiers"][1]["earnMultiplier"] == "1.25"


def test_form_text_is_read_like_json_numbers():
    doc = _doc(windowDays="180", t2__threshold="12000", t2__earnMultiplier=" 3 ",
               t2__retentionDays="30")
    found, problems = ladder.from_document(doc)
    assert problems == ()
    assert found[2].threshold == 12_000 and found[2].earn_multiplier == Decimal(3)
    assert found[2].retention == dt.timedelta(days=30)
    assert {t.window for t in found} == {dt.timedelta(days=180)}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"t2__threshold": 2_000}, {("tiers[2].threshold", "TIER_THRESHOLD_NOT_RISING")}),
    ({"t2__threshold": 1_999}, {("tiers[2].threshold", "TIER_THRESHOLD_NOT_RISING")}),
    ({"t0__threshold": 5}, {("tiers[0].threshold", "TIER_THRESHOLD_INVALID")}),
    ({"t1__threshold": "many"}, {("tiers[1].threshold", "TIER_THRESHOLD_INVALID")}),
    ({"t1__threshold": 2.5}, {("tiers[1].threshold", "TIER_THRESHOLD_INVALID")}),
    ({"t1__earnMultiplier": "0.99"}, {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE")}),
    ({"t1__earnMultiplier": "0"}, {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE")}),
    ({"t1__earnMultiplier": "10.01"},
     {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE")}),
    ({"t1__earnMultiplier": "1e9"}, {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE")}),
    ({"t1__earnMultiplier": "1.00001"}, {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_INVALID")}),
    ({"t1__earnMultiplier": "NaN"}, {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_INVALID")}),
    ({"t1__earnMultiplier": "double"}, {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_INVALID")}),
    ({"t2__code": "silver"}, {("tiers[2].code", "TIER_CODE_TAKEN")}),
    ({"t2__code": "Gold!"}, {("tiers[2].code", "TIER_CODE_INVALID")}),
    ({"t2__code": "g" * 33}, {("tiers[2].code", "TIER_CODE_INVALID")}),
    ({"t2__code": None}, {("tiers[2].code", "TIER_CODE_INVALID")}),
    ({"t1__nameFa": "  "}, {("tiers[1].nameFa", "TIER_NAME_MISSING")}),
    ({"t1__nameEn": None}, {("tiers[1].nameEn", "TIER_NAME_MISSING")}),
    ({"t1__threshold": "x", "t2__earnMultiplier": "0"},
     {("tiers[1].threshold", "TIER_THRESHOLD_INVALID"),
      ("tiers[2].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE")}),
    ({"t3__retentionDays": "", "t2__earnMultiplier": "0"},
     {("tiers[3].retentionDays", "TIER_RETENTION_INVALID"),
      ("tiers[2].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE")}),
    ({"t1__nameEn": "S" * 41}, {("tiers[1].nameEn", "TIER_NAME_INVALID")}),
    ({"t1__metric": "visits"}, {("tiers[1].metric", "TIER_METRIC_UNKNOWN")}),
    ({"t1__retentionDays": -1}, {("tiers[1].retentionDays", "TIER_RETENTION_INVALID")}),
    ({"t1__retentionDays": 731}, {("tiers[1].retentionDays", "TIER_RETENTION_INVALID")}),
    ({"t1__retentionDays": "1.5"}, {("tiers[1].retentionDays", "TIER_RETENTION_INVALID")}),
    ({"t0__retentionDays": 30}, {("tiers[0].retentionDays", "TIER_RETENTION_INVALID")}),
    ({"windowDays": 0}, {("windowDays", "TIER_WINDOW_INVALID")}),
    ({"windowDays": 1097}, {("windowDays", "TIER_WINDOW_INVALID")}),
    ({"windowDays": None}, {("windowDays", "TIER_WINDOW_INVALID")}),
    ({"t1__perks": "coffee"}, {("tiers[1]", "TIER_LADDER_INVALID")}),
])
def test_each_problem_names_its_field_and_code(changes, expected):
    assert _codes(_doc(**changes)) == expected


def test_every_problem_is_reported_at_once():
    found = _codes(_doc(t1__earnMultiplier="20", t2__threshold=100, t3__nameFa=""))
    assert found == {("tiers[1].earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE"),
                     ("tiers[2].threshold", "TIER_THRESHOLD_NOT_RISING"),
                     ("tiers[3].nameFa", "TIER_NAME_MISSING")}


def test_a_ladder_needs_a_tier_and_the_document_its_shape():
    assert _codes({"windowDays": 365, "tiers": []}) == {("tiers", "TIER_LADDER_EMPTY")}
    assert _codes([1, 2]) == {("tiers", "TIER_LADDER_INVALID")}
    assert _codes({"windowDays": 365}) == {("tiers", "TIER_LADDER_INVALID")}
    assert _codes({"windowDays": 365, "tiers": ["gold"]}) == {("tiers[0]", "TIER_LADDER_INVALID")}
    assert _codes({"windowDays": 365, "tiers": [{"code": "all", "nameEn": "All"}]}) == {
        ("tiers[0].threshold", "TIER_THRESHOLD_INVALID"),
        ("tiers[0].nameFa", "TIER_NAME_MISSING")}
    too_many = [{"code": f"t{i}", "nameEn": "T", "nameFa": "ت", "threshold": i * 10}
                for i in range(ladder.MAX_TIERS + 1)]
    assert _codes({"windowDays": 365, "tiers": too_many}) == {("tiers", "TIER_LADDER_INVALID")}


def test_a_tier_in_use_cannot_be_removed_but_may_change():
    in_use = {"gold": "campaign 'gold-weekend' (active)", "silver": "reward #3's visibility"}
    without_gold = copy.deepcopy(SEED)
    del without_gold["tiers"][2]
    assert _codes(without_gold, in_use) == {("tiers", "TIER_IN_USE")}
    problems = ladder.from_document(without_gold, in_use=in_use)[1]
    assert "gold-weekend" in problems[0].message
    assert _codes(without_gold, {"silver": "x"}) == set()  # gold is not used: it may go
    assert _codes(_doc(t2__threshold=20_000, t2__earnMultiplier="3"), in_use) == set()


def test_check_is_the_validation_and_allows_tiers_off():
    ladder.check(())  # no tiers: tiers off
    with pytest.raises(ValueError, match="must be above"):
        ladder.check((DEFINITIONS[0], DEFINITIONS[2], DEFINITIONS[1]))


def test_a_tier_name_in_each_language_and_an_unknown_code_as_itself():
    assert tiers.name_of(DEFINITIONS, "gold", "fa") == "طلایی"
    assert tiers.name_of(DEFINITIONS, "gold", "en") == "Gold"
    assert tiers.name_of(DEFINITIONS, "bronze", "en") == "bronze"
