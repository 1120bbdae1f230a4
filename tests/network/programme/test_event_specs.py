"""Event type specs and attribute checking: pure functions, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from network.programme import event_specs as es
from network.programme.facts import EVENT_TYPES


def _problem(call, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(es.EventTypeError) as caught:
        call(*args)
    return caught.value.code, caught.value.field


def test_the_standard_types_are_the_ones_the_rules_know() -> None:
    assert set(es.STANDARD) == EVENT_TYPES


def test_every_standard_spec_parses_and_spells_itself_back() -> None:
    for raw in es.STANDARD.values():
        assert es.parse_spec(raw).as_json() == raw


def test_attributes_are_typed_exactly() -> None:
    spec = es.parse_spec({"rating": {"type": "integer", "required": True, "min": 1, "max": 5},
                          "price": {"type": "number", "min": "0.01"},
                          "gift": {"type": "boolean"}, "note": {"type": "string"}})
    checked = es.check_attributes(spec, {"rating": 5, "price": 0.1, "gift": False,
                                         "note": None})
    assert checked == {"rating": 5, "price": Decimal("0.1"), "gift": False}
    assert type(checked["rating"]) is int and type(checked["gift"]) is bool
    assert es.check_attributes(spec, {"rating": 1, "price": "12.50"})["price"] == Decimal("12.50")
    assert es.attributes_json({"price": Decimal("12.50")}) == {"price": "12.50"}
    assert es.stored_attributes(spec, {"price": "12.50", "rating": 2}) == {
        "price": Decimal("12.50"), "rating": 2}


@pytest.mark.parametrize(("raw", "field"), [
    ({"rating": True}, "attributes.rating"),  # a boolean is not a number
    ({"rating": 2**60}, "attributes.rating"),
    ({"rating": 3, "price": float("nan")}, "attributes.price"),
    ({"rating": 3, "price": "abc"}, "attributes.price"),
    ({"rating": 3, "price": "0.001"}, "attributes.price"),  # below min
    ({"rating": 3, "price": "1" * 19}, "attributes.price"),  # too many digits to stay exact
    ({"rating": 3, "gift": 1}, "attributes.gift"),
    ({"rating": 3, "note": 7}, "attributes.note"),
    ({"rating": 3, "zzz": 1, "aaa": 2}, "attributes.aaa"),  # the first unknown, sorted
    ("rating=3", "attributes"),
])
def test_bad_attributes_name_their_path(raw: object, field: str) -> None:
    spec = es.parse_spec({"rating": {"type": "integer", "required": True},
                          "price": {"type": "number", "min": "0.01"},
                          "gift": {"type": "boolean"}, "note": {"type": "string"}})
    assert _problem(es.check_attributes, spec, raw) == ("INVALID_ATTRIBUTES", field)


def test_enum_of_numbers_compares_values_not_spelling() -> None:
    spec = es.parse_spec({"size": {"type": "number", "enum": ["0.5", 1]}})
    assert es.check_attributes(spec, {"size": "0.50"}) == {"size": Decimal("0.50")}
    assert _problem(es.check_attributes, spec, {"size": 2}) == ("INVALID_ATTRIBUTES",
                                                               "attributes.size")


@pytest.mark.parametrize(("raw", "field"), [
    ({"a": {"type": "integer", "enum": [1, 1]}}, "attributes.a.enum"),
    ({"a": {"type": "integer", "enum": []}}, "attributes.a.enum"),
    ({"a": {"type": "string", "min": 1}}, "attributes.a.min"),
    ({"a": {"type": "integer", "maxLength": 3}}, "attributes.a.maxLength"),
    ({"a": {"type": "string", "maxLength": 0}}, "attributes.a.maxLength"),
    ({"a": {"type": "string", "required": "yes"}}, "attributes.a.required"),
    ({"a": {"type": "string", "enum": ["toolong"], "maxLength": 3}}, "attributes.a.enum.0"),
    ({"a": "string"}, "attributes.a"),
    ({f"a{i}": {"type": "string"} for i in range(21)}, "attributes"),
])
def test_bad_specs_name_the_rule(raw: object, field: str) -> None:
    assert _problem(es.parse_spec, raw) == ("INVALID_ATTRIBUTE_SPEC", field)


@pytest.mark.parametrize("code", ["", "a", "Review", "9lives", "has-dash", "x" * 41, "enrolled",
                                  "referral_converted", None])
def test_bad_codes(code: object) -> None:
    assert _problem(es.check_code, code) == ("INVALID_EVENT_TYPE_CODE", "code")


def test_good_code() -> None:
    assert es.check_code("table_visit2") == "table_visit2"
