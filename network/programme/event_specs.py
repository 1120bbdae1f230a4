"""Custom event types: the attribute spec a type is registered with, and checking an event's
attributes against it. Pure functions (no database), so the signed API, the CLI and tests share
them.

A spec is a small, closed subset of JSON Schema, written as one JSON object from attribute name
to rule:

    {"rating": {"type": "integer", "required": true, "min": 1, "max": 5},
     "platform": {"type": "string", "enum": ["android", "ios"]}}

- `type` (required): string, integer, number or boolean. Numbers are exact decimals.
- `required` (default false).
- `enum`: the allowed values (string, integer or number attributes), 1 to 50 distinct values.
- `min` / `max`: inclusive bounds (integer and number attributes).
- `maxLength`: a string's longest length, 1 to 1,000 (default 200).

Why not `jsonschema`: the programme needs flat, typed values its campaign conditions can compare
(facts.AttributeValue), so nested objects, arrays, `$ref`, patterns and formats would be accepted
at registration and then be unusable; exact Decimal numbers and errors naming the attribute's
path (`attributes.rating`) are a few lines here and awkward there. The subset is closed: an
unknown rule key is refused, so a partner never believes a rule is enforced when it is not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from network.errors import HubError
from network.programme.facts import LIFECYCLE_KINDS, AttributeValue

TYPES = ("string", "integer", "number", "boolean")
RULE_KEYS = frozenset({"type", "required", "enum", "min", "max", "maxLength"})
MAX_ATTRIBUTES = 20
MAX_ENUM = 50
DEFAULT_MAX_LENGTH = 200
MAX_MAX_LENGTH = 1_000
# Whole numbers and decimals are bounded so they stay exact everywhere they travel (JSON
# clients read numbers as doubles: 2^53 is where integers stop being exact there).
INTEGER_LIMIT = 2**53
NUMBER_DIGITS = 18
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
NAME_PATTERN = re.compile(r"^[a-z][A-Za-z0-9_]{0,39}$")


class EventTypeError(HubError):
    """Refusals about event types and events."""

    code = "EVENT_TYPE_ERROR"


class UnknownEventType(EventTypeError):
    code = "UNKNOWN_EVENT_TYPE"


class InvalidAttributes(EventTypeError):
    code = "INVALID_ATTRIBUTES"


class InvalidAttributeSpec(EventTypeError):
    code = "INVALID_ATTRIBUTE_SPEC"


class InvalidEventTypeCode(EventTypeError):
    code = "INVALID_EVENT_TYPE_CODE"


class EventTypeExists(EventTypeError):
    code = "EVENT_TYPE_EXISTS"


@dataclass(frozen=True, slots=True)
class AttributeRule:
    name: str
    type: str
    required: bool = False
    enum: tuple[AttributeValue, ...] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int = DEFAULT_MAX_LENGTH

    def as_json(self) -> dict[str, Any]:
        """The rule as registered (the canonical spelling: defaults left out)."""
        out: dict[str, Any] = {"type": self.type}
        if self.required:
            out["required"] = True
        if self.enum is not None:
            out["enum"] = [to_json(v) for v in self.enum]
        if self.min is not None:
            out["min"] = _bound_json(self.type, self.min)
        if self.max is not None:
            out["max"] = _bound_json(self.type, self.max)
        if self.type == "string" and self.max_length != DEFAULT_MAX_LENGTH:
            out["maxLength"] = self.max_length
        return out


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    rules: tuple[AttributeRule, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {rule.name: rule.as_json() for rule in self.rules}

    def rule(self, name: str) -> AttributeRule | None:
        return next((r for r in self.rules if r.name == name), None)


def _bound_json(type_: str, value: Decimal) -> int | str:
    return int(value) if type_ == "integer" else str(value)


def to_json(value: AttributeValue) -> Any:
    """A checked value as stored and answered: decimals as exact strings ("4.50")."""
    return str(value) if isinstance(value, Decimal) else value


def check_code(code: object, field: str = "code") -> str:
    """An event type's code: 2-40 of a-z, 0-9 and _, starting with a letter; not a lifecycle
    kind the network raises itself (a campaign's trigger must say one thing)."""
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise InvalidEventTypeCode("an event type code is 2 to 40 characters of a-z, 0-9 and _, "
                                   "starting with a letter", field=field)
    if code in LIFECYCLE_KINDS:
        raise InvalidEventTypeCode(f"{code} is an event the network raises itself; choose "
                                   "another code", field=field)
    return code


def _spec_problem(message: str, field: str) -> InvalidAttributeSpec:
    return InvalidAttributeSpec(message, field=field)


def _typed(type_: str, value: object, field: str,
           error: type[EventTypeError]) -> AttributeValue:
    """`value` as the attribute's type, or `error` naming `field`. bool is never a number."""
    if type_ == "string":
        if not isinstance(value, str):
            raise error(f"{field} must be a string", field=field)
        return value
    if type_ == "boolean":
        if not isinstance(value, bool):
            raise error(f"{field} must be true or false", field=field)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise error(f"{field} must be a{'n integer' if type_ == 'integer' else ' number'}",
                    field=field)
    if type_ == "integer":
        if not isinstance(value, int) or abs(value) > INTEGER_LIMIT:
            raise error(f"{field} must be a whole number between -2^53 and 2^53", field=field)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise error(f"{field} must be a finite number", field=field)
    if isinstance(value, str):  # a number sent as an exact decimal string ("4.50")
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise error(f"{field} must be a number", field=field) from None
    else:
        # repr is the shortest text that reads back as the same double: what the client wrote
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or len(number.as_tuple().digits) > NUMBER_DIGITS:
        raise error(f"{field} must be a finite number of at most {NUMBER_DIGITS} digits",
                    field=field)
    return number


def _rule(name: object, raw: object, prefix: str) -> AttributeRule:
    field = f"{prefix}.{name}"
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _spec_problem("an attribute name is 1 to 40 letters, digits and _, starting with a "
                            "lower-case letter", field)
    if not isinstance(raw, Mapping):
        raise _spec_problem(f"{field} must be an object such as {{\"type\": \"string\"}}", field)
    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise _spec_problem(f"unknown rule {unknown[0]!r}; a rule has only "
                            f"{', '.join(sorted(RULE_KEYS))}", f"{field}.{unknown[0]}")
    type_ = raw.get("type")
    if type_ not in TYPES:
        raise _spec_problem(f"type must be one of {', '.join(TYPES)}", f"{field}.type")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise _spec_problem("required must be true or false", f"{field}.required")
    enum: tuple[AttributeValue, ...] | None = None
    if "enum" in raw:
        values = raw["enum"]
        if type_ == "boolean":
            raise _spec_problem("a boolean needs no enum", f"{field}.enum")
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_ENUM:
            raise _spec_problem(f"enum must be a list of 1 to {MAX_ENUM} values", f"{field}.enum")
        enum = tuple(_typed(type_, v, f"{field}.enum.{i}", InvalidAttributeSpec)
                     for i, v in enumerate(values))
        if len(set(enum)) != len(enum):
            raise _spec_problem("enum values must be distinct", f"{field}.enum")
    bounds: dict[str, Decimal] = {}
    for key in ("min", "max"):
        if key in raw:
            if type_ not in ("integer", "number"):
                raise _spec_problem(f"{key} applies to integer and number attributes only",
                                    f"{field}.{key}")
            bounds[key] = Decimal(_typed(type_, raw[key], f"{field}.{key}",  # type: ignore[arg-type]
                                         InvalidAttributeSpec))
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        raise _spec_problem("min is above max: no value could pass", f"{field}.min")
    max_length = raw.get("maxLength", DEFAULT_MAX_LENGTH)
    if "maxLength" in raw and type_ != "string":
        raise _spec_problem("maxLength applies to string attributes only", f"{field}.maxLength")
    if isinstance(max_length, bool) or not isinstance(max_length, int) \
            or not 1 <= max_length <= MAX_MAX_LENGTH:
        raise _spec_problem(f"maxLength must be a whole number from 1 to {MAX_MAX_LENGTH}",
                            f"{field}.maxLength")
    if enum is not None:
        for i, value in enumerate(enum):
            if not _within(value, bounds.get("min"), bounds.get("max"), max_length):
                raise _spec_problem("this enum value breaks the attribute's own bounds",
                                    f"{field}.enum.{i}")
    return AttributeRule(name, type_, required, enum, bounds.get("min"), bounds.get("max"),
                         max_length)


def _within(value: AttributeValue, low: Decimal | None, high: Decimal | None,
            max_length: int) -> bool:
    if isinstance(value, str):
        return len(value) <= max_length
    if isinstance(value, bool):
        return True
    return (low is None or value >= low) and (high is None or value <= high)


def parse_spec(raw: object, prefix: str = "attributes") -> AttributeSpec:
    """A registered spec from its JSON, or INVALID_ATTRIBUTE_SPEC naming the rule at fault
    (`attributes.rating.min`). Attribute order is kept: it is the order problems are found in."""
    if not isinstance(raw, Mapping):
        raise _spec_problem("the attribute spec must be an object from attribute name to rule",
                            prefix)
    if len(raw) > MAX_ATTRIBUTES:
        raise _spec_problem(f"an event type has at most {MAX_ATTRIBUTES} attributes", prefix)
    return AttributeSpec(tuple(_rule(name, rule, prefix) for name, rule in raw.items()))


def check_attributes(spec: AttributeSpec, raw: object,
                     prefix: str = "attributes") -> dict[str, AttributeValue]:
    """An event's attributes, typed (integers int, numbers Decimal), or INVALID_ATTRIBUTES with
    the attribute's path in `field`. A null value is the attribute left out; an attribute the
    spec does not name is refused (a typo would otherwise pass silently)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidAttributes("attributes must be an object of attribute name to value",
                                field=prefix)
    given = {k: v for k, v in raw.items() if v is not None}
    unknown = sorted(str(k) for k in given if spec.rule(str(k)) is None)
    if unknown:
        known = ", ".join(r.name for r in spec.rules) or "none"
        raise InvalidAttributes(f"this event type has no attribute {unknown[0]!r} (it has: "
                                f"{known})", field=f"{prefix}.{unknown[0]}")
    out: dict[str, AttributeValue] = {}
    for rule in spec.rules:
        field = f"{prefix}.{rule.name}"
        if rule.name not in given:
            if rule.required:
                raise InvalidAttributes(f"{field} is required", field=field)
            continue
        value = _typed(rule.type, given[rule.name], field, InvalidAttributes)
        if rule.enum is not None and value not in rule.enum:
            allowed = ", ".join(str(to_json(v)) for v in rule.enum)
            raise InvalidAttributes(f"{field} must be one of {allowed}", field=field)
        if isinstance(value, str) and len(value) > rule.max_length:
            raise InvalidAttributes(f"{field} is at most {rule.max_length} characters",
                                    field=field)
        if not isinstance(value, str | bool):
            if rule.min is not None and value < rule.min:
                low = _bound_json(rule.type, rule.min)
                raise InvalidAttributes(f"{field} must be at least {low}", field=field)
            if rule.max is not None and value > rule.max:
                high = _bound_json(rule.type, rule.max)
                raise InvalidAttributes(f"{field} must be at most {high}", field=field)
        out[rule.name] = value
    return out


def stored_attributes(spec: AttributeSpec, stored: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """Attributes read back from the database (decimals were stored as strings)."""
    out: dict[str, AttributeValue] = {}
    for name, value in stored.items():
        rule = spec.rule(name)
        out[name] = Decimal(value) if rule is not None and rule.type == "number" else value
    return out


def attributes_json(values: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {name: to_json(value) for name, value in values.items()}


# The network's standard types (owner: the network). The migration that creates the table
# inserts these; `event_types.install_standard` puts back any that are missing.
STANDARD: dict[str, dict[str, Any]] = {
    "review": {"rating": {"type": "integer", "required": True, "min": 1, "max": 5},
               "sku": {"type": "string", "maxLength": 64},
               "hasText": {"type": "boolean"}},
    "survey_completed": {"survey": {"type": "string", "required": True, "maxLength": 64},
                         "score": {"type": "integer", "min": 0, "max": 10}},
    "social_share": {"network": {"type": "string", "required": True,
                                 "enum": ["facebook", "instagram", "x", "telegram", "whatsapp",
                                          "other"]},
                     "url": {"type": "string", "maxLength": 500}},
    "app_install": {"platform": {"type": "string", "required": True,
                                 "enum": ["android", "ios", "web"]}},
}
