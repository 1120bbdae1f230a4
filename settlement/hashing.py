"""Content hash: sha256 of canonical JSON, so an identical run is provably identical.

Canonical means: keys sorted, no insignificant whitespace, ASCII only, Decimals as their
normalised string (so 1.50 and 1.5 hash alike), datetimes as UTC ISO 8601, dataclasses as
dicts, tuples as lists. Nothing time-of-computation goes in, only inputs and results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# Field names per dataclass, looked up once: `dataclasses.fields` on each of a month's tens of
# thousands of values was most of the hash's time. The output is the same, value for value.
_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):  # most values: checked first
        return value
    names = _FIELDS.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def content_hash(value: Any) -> str:
    """Hex sha256 of the canonical JSON of `value`."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()
