"""The console's tier ladder form <-> the ladder document (network/programme/ladder.py).

Pure, no database. One row per tier, named after the document's fields (`tiers[2].threshold`),
so every problem the ladder's validation reports lands next to its input with the same code as
`pointsnet programme tiers set`. The form adds only what a person needs to edit a list: a blank
row to add a tier, a "remove" box on each row; rows left wholly blank are not tiers. Persian
digits and the Persian decimal separator (٫) are read as ASCII; a value is otherwise passed on as
typed, so validation refuses it exactly as it would in a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from network.programme.ladder import MAX_TIERS
from network.programme.validation import Problem
from network.web.i18n import ascii_digits

FIELDS = ("code", "nameEn", "nameFa", "threshold", "earnMultiplier", "retentionDays")
_NUMBERS = ("threshold", "earnMultiplier", "retentionDays")
_OPTIONAL = ("earnMultiplier", "retentionDays")
_ROW = re.compile(r"^tiers\[(\d+)\](.*)$")

Values = dict[str, Any]  # input name -> str; "rows": how many rows the form shows


def from_document(doc: Mapping[str, Any]) -> Values:
    """The form showing a ladder document, with one blank row to add a tier."""
    values: Values = {"windowDays": str(doc["windowDays"])}
    for index, tier in enumerate(doc["tiers"]):
        for field in FIELDS:
            values[f"tiers[{index}].{field}"] = str(tier.get(field, ""))
    values["rows"] = min(len(doc["tiers"]) + 1, MAX_TIERS)
    return values


def posted(get: Callable[[str], Any], rows: int) -> Values:
    """The form's values as posted (a FormData's get), strings kept as typed."""
    def text(name: str) -> str:
        value = get(name)
        return value if isinstance(value, str) else ""

    values: Values = {"windowDays": text("windowDays"), "rows": rows}
    for index in range(rows):
        for field in (*FIELDS, "remove"):
            values[f"tiers[{index}].{field}"] = text(f"tiers[{index}].{field}")
    return values


def _number(text: str) -> str:
    # Only the Persian decimal separator is read; a thousands separator is refused as typed,
    # since "1,5" may mean one and a half.
    return ascii_digits(text).replace("٫", ".").strip()


def document(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The ladder document the form describes, and which form row each tier came from
    (tiers[i] in the document is row rows[i]: removed and blank rows are left out)."""
    tiers, rows = [], []
    for index in range(int(values["rows"])):
        row = {f: str(values.get(f"tiers[{index}].{f}") or "").strip() for f in FIELDS}
        if values.get(f"tiers[{index}].remove") or not any(row.values()):
            continue
        # An empty multiplier or retention means the default (1, and 0 days), as in a file.
        tiers.append({f: _number(v) if f in _NUMBERS else v for f, v in row.items()
                      if v or f not in _OPTIONAL})
        rows.append(index)
    return {"windowDays": _number(str(values.get("windowDays") or "")), "tiers": tiers}, rows


def by_input(problems: Sequence[Problem], rows: Sequence[int]) -> dict[str, list[Problem]]:
    """Problems keyed by the form input they are about: `tiers[i]...` of the document is
    `tiers[rows[i]]...` of the form; a ladder-wide problem stays under "tiers"."""
    placed: dict[str, list[Problem]] = {}
    for problem in problems:
        name = problem.field
        found = _ROW.match(name)
        if found and int(found[1]) < len(rows):
            rest = found[2] if found[2] != ".name" else ".nameEn"
            name = f"tiers[{rows[int(found[1])]}]{rest}"
        placed.setdefault(name, []).append(problem)
    return placed
