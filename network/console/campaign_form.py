"""The console's campaign form <-> the campaign's JSON document (network/programme/codec.py).

Pure, no database: the form's inputs are NAMED after the document's fields (`effect.factor`,
`limits.budgetPoints`, `funder[0].share`), so every problem validation, the codec or the store
report lands next to the input it is about, with the same code as the API and the CLI. The form
only changes how a person types a value, never what is checked:

- times are typed in the network's time zone (an `<input type=datetime-local>`) and get its
  offset; amounts are typed in the currency's major unit ("12.50") and become minor units;
  funder shares are percentages ("50") and become basis points (5000);
- Persian digits are read as digits; an empty input leaves the field out of the document;
- a value the form cannot turn into the document's type is passed on AS TYPED, so the codec
  refuses it (WRONG_TYPE, TIME_INVALID, NOT_A_NUMBER) exactly as it refuses such a document.

Parties are named by code (`{"party": "cafe"}`, `"cafe"` in `conditions.partners`), as in the
CLI's documents; management.resolve_parties turns them into ids.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from network.money import currency_exponent
from network.programme.codec import EFFECT_KINDS
from network.programme.validation import Problem
from network.web.i18n import ascii_digits

FUNDER_ROWS = 3  # a split among up to three parties; the document allows more, the form shows 3
# Inputs that carry several values (checkboxes).
MULTI = ("conditions.partners", "conditions.tiers", "conditions.segments",
         "conditions.weekdays", "conditions.channels")
# effect.kind -> the inputs that carry its values.
EFFECT_INPUTS = {"fixed": ("effect.points",), "per_amount": ("effect.rate",),
                 "multiplier": ("effect.factor",), "issue_reward": ("effect.rewardId",),
                 "lottery_entries": ("effect.drawCode", "effect.count")}
_WHOLE = ("points", "rewardId", "count")  # typed as whole numbers; rate and factor as decimals
LIMITS = ("perMemberDay", "perMemberWeek", "perMemberMonth", "perMemberCampaign", "budgetPoints")
_INT = re.compile(r"[+-]?\d+")
_LOCAL_TIME = "%Y-%m-%dT%H:%M"

Values = dict[str, Any]  # input name -> str, or list[str] for MULTI


def posted(get: Callable[[str], Any], getlist: Callable[[str], list[Any]]) -> Values:
    """The form's values as posted (a FormData's get/getlist), strings kept as typed."""
    names = ["owner", "code", "nameEn", "nameFa", "trigger.kind", "trigger.name", "effect.kind",
             *(i for inputs in EFFECT_INPUTS.values() for i in inputs), "startsAt", "endsAt",
             "conditions.categories",
             "conditions.skus", "conditions.minAmount", "conditions.maxAmount",
             "conditions.hours.start", "conditions.hours.end", "conditions.firstAtPartner",
             "conditions.attributes", "priority", "stacking", "period",
             *(f"limits.{key}" for key in LIMITS),
             *(f"funder[{i}].{part}" for i in range(FUNDER_ROWS) for part in ("party", "share"))]
    values: Values = {name: v if isinstance(v := get(name), str) else "" for name in names}
    values.update({name: [v for v in getlist(name) if isinstance(v, str)] for name in MULTI})
    return values


# ---- form -> document -------------------------------------------------------------------------

def document(values: Mapping[str, Any], *, zone: ZoneInfo, currency: str
             ) -> tuple[dict[str, Any], list[int]]:
    """The campaign document the form describes, and which form row each funder entry came
    from (funder[i] in the document is row rows[i] in the form: empty rows are left out)."""
    def given(name: str) -> str:
        return str(values.get(name) or "").strip()

    doc: dict[str, Any] = {}
    for key in ("code", "nameEn", "nameFa", "stacking"):
        if given(key):
            doc[key] = given(key)
    if given("priority"):
        doc["priority"] = _integer(given("priority"))
    trigger = {"kind": given("trigger.kind")} if given("trigger.kind") else {}
    if given("trigger.name"):
        trigger["name"] = given("trigger.name")
    if trigger:
        doc["trigger"] = trigger
    kind = given("effect.kind")
    if kind:
        effect: dict[str, Any] = {"kind": kind}
        for value_input in EFFECT_INPUTS.get(kind, ()):
            raw = given(value_input)
            if not raw:
                continue
            key = value_input.split(".", 1)[1]
            effect[key] = (_integer(raw) if key in _WHOLE
                           else ascii_digits(raw).replace("٫", ".") if key in ("rate", "factor")
                           else raw)
        doc["effect"] = effect
    funder, rows = [], []
    for row in range(FUNDER_ROWS):
        party, share = given(f"funder[{row}].party"), given(f"funder[{row}].share")
        if party or share:
            part: dict[str, Any] = {"party": party} if party else {}
            if share:
                part["share"] = _percent(share)
            funder.append(part)
            rows.append(row)
    if funder:
        doc["funder"] = funder
    for key in ("startsAt", "endsAt"):
        if given(key):
            doc[key] = _local_time(given(key), zone)
    conditions = _conditions(values, given, currency)
    if conditions:
        doc["conditions"] = conditions
    limits = {key: _integer(given(f"limits.{key}")) for key in LIMITS
              if given(f"limits.{key}")}
    if limits:
        doc["limits"] = limits
    return doc, rows


def _conditions(values: Mapping[str, Any], given: Callable[[str], str], currency: str
                ) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in MULTI:
        chosen = [str(v) for v in values.get(name) or [] if str(v).strip()]
        if chosen:
            key = name.split(".", 1)[1]
            found[key] = [_integer(v) for v in chosen] if key == "weekdays" else chosen
    for key in ("categories", "skus"):
        listed = [part.strip() for part in re.split(r"[,،\s]+", given(f"conditions.{key}"))
                  if part.strip()]
        if listed:
            found[key] = listed
    for key in ("minAmount", "maxAmount"):
        if given(f"conditions.{key}"):
            found[key] = _minor(given(f"conditions.{key}"), currency)
    start, end = given("conditions.hours.start"), given("conditions.hours.end")
    if start or end:
        found["hours"] = {**({"start": ascii_digits(start)} if start else {}),
                          **({"end": ascii_digits(end)} if end else {})}
    if given("conditions.firstAtPartner"):
        found["firstAtPartner"] = True
    if given("conditions.attributes"):
        try:
            found["attributes"] = json.loads(given("conditions.attributes"))
        except json.JSONDecodeError:
            found["attributes"] = given("conditions.attributes")  # the codec says WRONG_TYPE
    return found


def _integer(raw: str) -> int | str:
    text = ascii_digits(raw).replace(",", "").replace("٬", "").strip()
    return int(text) if _INT.fullmatch(text) else raw


def _percent(raw: str) -> int | str:
    """"50" or "33.33" (percent) -> basis points; anything else as typed."""
    try:
        basis = Decimal(ascii_digits(raw).replace("٫", ".").rstrip("%").strip()) * 100
    except InvalidOperation:
        return raw
    return int(basis) if basis.is_finite() and basis == basis.to_integral_value() else raw


def _minor(raw: str, currency: str) -> int | str:
    """"12.50" in the currency's major unit -> 1250 minor units; anything else as typed."""
    try:
        minor = Decimal(ascii_digits(raw).replace("٫", ".").replace(",", "")).scaleb(
            currency_exponent(currency))
    except InvalidOperation:
        return raw
    return int(minor) if minor.is_finite() and minor == minor.to_integral_value() else raw


def _local_time(raw: str, zone: ZoneInfo) -> str:
    """A datetime-local value, read in the network's zone, as ISO 8601 with its offset."""
    text = ascii_digits(raw)
    try:
        local = dt.datetime.strptime(text[:16], _LOCAL_TIME)
    except ValueError:
        return raw  # the codec says TIME_INVALID, naming the field
    return local.replace(tzinfo=zone).isoformat()


# ---- document -> form -------------------------------------------------------------------------

def from_document(doc: Mapping[str, Any], *, zone: ZoneInfo, currency: str,
                  codes: Mapping[int, str]) -> Values:
    """The form's values for a stored document (editing), parties by code."""
    values: Values = {name: [] for name in MULTI}
    for key in ("code", "nameEn", "nameFa", "stacking"):
        values[key] = str(doc.get(key) or "")
    values["priority"] = str(doc.get("priority", 0))
    values["trigger.kind"] = doc["trigger"]["kind"]
    values["trigger.name"] = doc["trigger"].get("name", "")
    effect = doc["effect"]
    values["effect.kind"] = effect["kind"]
    for value_input in EFFECT_INPUTS[effect["kind"]]:
        values[value_input] = str(effect.get(value_input.split(".", 1)[1], ""))
    for row, part in enumerate(doc.get("funder", [])[:FUNDER_ROWS]):
        values[f"funder[{row}].party"] = codes.get(part["partyId"], str(part["partyId"]))
        values[f"funder[{row}].share"] = _number(Decimal(part["share"]) / 100)
    for key in ("startsAt", "endsAt"):
        if doc.get(key):
            at = dt.datetime.fromisoformat(doc[key]).astimezone(zone)
            values[key] = at.strftime(_LOCAL_TIME)
    conditions = doc.get("conditions", {})
    values["conditions.partners"] = [codes.get(p, str(p)) for p in conditions.get("partners", [])]
    for name in ("tiers", "segments", "channels", "weekdays"):
        values[f"conditions.{name}"] = [str(v) for v in conditions.get(name, [])]
    for name in ("categories", "skus"):
        values[f"conditions.{name}"] = ", ".join(conditions.get(name, []))
    for name in ("minAmount", "maxAmount"):
        if name in conditions:
            values[f"conditions.{name}"] = _number(
                Decimal(conditions[name]).scaleb(-currency_exponent(currency)))
    hours = conditions.get("hours") or {}
    values["conditions.hours.start"] = hours.get("start", "")
    values["conditions.hours.end"] = hours.get("end", "")
    values["conditions.firstAtPartner"] = "1" if conditions.get("firstAtPartner") else ""
    values["conditions.attributes"] = (json.dumps(conditions["attributes"], ensure_ascii=False)
                                       if conditions.get("attributes") else "")
    for name in LIMITS:
        value = (doc.get("limits") or {}).get(name)
        values[f"limits.{name}"] = "" if value is None else str(value)
    return values


def _number(value: Decimal) -> str:
    """A decimal as a person types it: no exponent, no trailing zeros ("50", "12.5")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def blank(*, owner: str, funder: str, zone: ZoneInfo, now: dt.datetime) -> Values:
    """A new campaign's form: a stackable purchase multiplier, funded wholly by `funder`,
    starting at the next midnight in the network's zone."""
    start = (now.astimezone(zone) + dt.timedelta(days=1)).strftime("%Y-%m-%dT00:00")
    return {name: [] for name in MULTI} | {
        "owner": owner, "trigger.kind": "purchase", "effect.kind": "multiplier",
        "funder[0].party": funder, "funder[0].share": "100", "startsAt": start,
        "stacking": "stackable", "priority": "0"}


# ---- problems -> inputs -----------------------------------------------------------------------

_FUNDER = re.compile(r"funder\[(\d+)\](.*)")


def by_input(problems: Sequence[Problem], rows: Sequence[int]) -> dict[str, list[Problem]]:
    """Each problem under the form input it is about: a funder entry's problem under its form
    row, `partyId` under the row's party; a problem of an input's part (conditions.hours.start,
    conditions.attributes[0].key) under that input; anything else under its own field."""
    found: dict[str, list[Problem]] = {}
    for problem in problems:
        field = problem.field
        matched = _FUNDER.fullmatch(field)
        if matched:
            index, rest = int(matched.group(1)), matched.group(2)
            row = rows[index] if index < len(rows) else index
            field = f"funder[{row}].{'share' if rest == '.share' else 'party'}"
        elif field.startswith("conditions.attributes"):
            field = "conditions.attributes"
        elif field == "effect":
            field = "effect.kind"
        found.setdefault(field, []).append(problem)
    return found


EFFECT_KIND_NAMES = tuple(EFFECT_KINDS)
