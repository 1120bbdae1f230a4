"""Component values (RFC 9421 section 2): what each covered identifier contributes to the base.

A covered component is an sf-string naming a derived component (`"@path"`) or a field
(`"content-type"`), with optional parameters. Each component yields one or more lines' values;
anything that cannot be resolved is an error, never an empty string, because signing over a
silently missing value would let an attacker add it later.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, unquote_plus

from .message import HttpRequest, combine_lines
from .structured_fields import (
    Item,
    StructuredFieldError,
    parse_dictionary,
    parse_item,
    parse_list,
    serialize_dictionary,
    serialize_list,
    serialize_member,
)


class ComponentError(ValueError):
    """A covered component cannot be resolved against this message."""


# Structured fields whose type we know, needed by the `sf` parameter (RFC 9421 2.1.1 requires
# the verifier to know the type). Applications add their own with `register_structured_field`.
STRUCTURED_FIELDS: dict[str, str] = {
    "signature-input": "dictionary",
    "signature": "dictionary",
    "content-digest": "dictionary",
    "repr-digest": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
    "priority": "dictionary",
    "accept-ch": "list",
    "cache-status": "list",
    "proxy-status": "list",
    "access-control-max-age": "item",
}


def register_structured_field(name: str, kind: str) -> None:
    if kind not in ("dictionary", "list", "item"):
        raise ValueError(f"unknown structured field type {kind!r}")
    STRUCTURED_FIELDS[name.lower()] = kind

DERIVED = {
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@request-target",
    "@path",
    "@query",
    "@query-param",
}


def _query_params(query: str) -> list[tuple[str, str]]:
    """Decode then re-encode names and values, so `a+b` and `a%20b` sign the same (2.2.8)."""
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append(
            (quote(unquote_plus(name), safe=""), quote(unquote_plus(value), safe=""))
        )
    return pairs


def _derived_values(request: HttpRequest, name: str, params: dict) -> list[str]:
    query = request.query
    if name == "@method":
        return [request.method]
    if name == "@target-uri":
        return [request.target_uri]
    if name == "@authority":
        return [request.authority]
    if name == "@scheme":
        return [request.scheme]
    if name == "@request-target":
        return [request.path + (f"?{query}" if query else "")]
    if name == "@path":
        return [request.path]
    if name == "@query":
        return [f"?{query}"]
    if name == "@query-param":
        wanted = params.get("name")
        if not isinstance(wanted, str):
            raise ComponentError('"@query-param" needs a string name parameter')
        values = [value for key, value in _query_params(query) if key == wanted]
        if not values:
            raise ComponentError(f"query parameter {wanted!r} is not in the request")
        return values
    raise ComponentError(f"unknown derived component {name!r}")


def _reserialize(name: str, value: str) -> str:
    kind = STRUCTURED_FIELDS.get(name)
    try:
        if kind == "dictionary":
            return serialize_dictionary(parse_dictionary(value))
        if kind == "list":
            return serialize_list(parse_list(value))
        if kind == "item":
            return serialize_member(parse_item(value))
    except StructuredFieldError as exc:
        raise ComponentError(f"field {name!r} is not a valid structured field: {exc}") from exc
    raise ComponentError(f"field {name!r} is not a known structured field; 'sf' cannot apply")


def _dictionary_member(name: str, value: str, key: object) -> str:
    if not isinstance(key, str):
        raise ComponentError("the 'key' parameter must be a string")
    try:
        members = parse_dictionary(value)
    except StructuredFieldError as exc:
        raise ComponentError(f"field {name!r} is not a dictionary: {exc}") from exc
    if key not in members:
        raise ComponentError(f"field {name!r} has no member {key!r}")
    return serialize_member(members[key])


def _field_values(request: HttpRequest, name: str, params: dict) -> list[str]:
    if "req" in params or "tr" in params:
        raise ComponentError("'req' and 'tr' parameters do not apply to a request's own fields")
    lines = request.header_lines(name)
    if not lines:
        raise ComponentError(f"header {name!r} is covered but not present")
    if any(c in line for line in lines for c in "\r\n"):
        raise ComponentError(f"header {name!r} contains a line break")
    if "bs" in params:
        if "sf" in params or "key" in params:
            raise ComponentError("'bs' cannot be combined with 'sf' or 'key'")
        encoded = [base64.b64encode(line.strip().encode("latin-1")).decode() for line in lines]
        return [", ".join(f":{value}:" for value in encoded)]
    combined = combine_lines(lines)
    if "key" in params:
        return [_dictionary_member(name, combined, params["key"])]
    if "sf" in params:
        return [_reserialize(name, combined)]
    return [combined]


def component_values(request: HttpRequest, component: Item) -> list[str]:
    """The value(s) one covered component contributes; one base line per value."""
    name = component.value
    if not isinstance(name, str) or name != name.lower() or not name:
        raise ComponentError(f"component names are lowercase strings, got {name!r}")
    if name.startswith("@"):
        if name == "@status":
            raise ComponentError('"@status" only exists on responses')
        return _derived_values(request, name, component.params)
    return _field_values(request, name, component.params)
