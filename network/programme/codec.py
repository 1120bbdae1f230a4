"""A campaign as a JSON document, and back: what the store keeps in `campaigns.definition`, what
`pointsnet campaigns create --file` reads and what the signed API will speak.

Field names are exactly the ones validation.py reports problems under (`conditions.maxAmount`,
`limits.budgetPoints`, `funder[0].share`), so an error points at the key the author wrote.
Decimals (rates, factors, attribute bounds) are JSON strings, never floats, so "1.5" stays 1.5;
times are ISO 8601 with their UTC offset; amounts are integer minor units. Parties are ids.

`from_document` checks shapes and types only (every problem at once, as validation does) and
builds a `Campaign`; whether the values are acceptable is validation.validate's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from network.errors import HubError
from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    CampaignEffect,
    Conditions,
    FixedPoints,
    FunderShare,
    HourWindow,
    IssueReward,
    Limits,
    LotteryEntries,
    Multiplier,
    PointsPerAmount,
    Trigger,
)
from network.programme.validation import Problem

# effect.kind in a document <-> the effect's class.
EFFECT_KINDS: dict[str, type] = {"fixed": FixedPoints, "per_amount": PointsPerAmount,
                                 "multiplier": Multiplier, "issue_reward": IssueReward,
                                 "lottery_entries": LotteryEntries}
_KIND_OF = {cls: kind for kind, cls in EFFECT_KINDS.items()}
# (document key, Conditions attribute) for the set-valued conditions.
_SETS = (("partners", "partners", int), ("categories", "categories", str), ("skus", "skus", str),
         ("tiers", "tiers", str), ("segments", "segments", str), ("weekdays", "weekdays", int),
         ("channels", "channels", str))
_LIMITS = (("perMemberDay", "per_member_day"), ("perMemberWeek", "per_member_week"),
           ("perMemberMonth", "per_member_month"), ("perMemberCampaign", "per_member_campaign"),
           ("budgetPoints", "budget_points"))
_TOP = frozenset({"code", "nameEn", "nameFa", "trigger", "effect", "funder", "startsAt",
                  "endsAt", "conditions", "limits", "status", "priority", "stacking"})


class CampaignDocumentError(HubError):
    """A campaign document that is not a campaign: every problem, each naming its field."""

    code = "CAMPAIGN_DOCUMENT_INVALID"
    codes = ("CAMPAIGN_DOCUMENT_INVALID", "FIELD_REQUIRED", "FIELD_UNKNOWN", "WRONG_TYPE",
             "NOT_A_NUMBER", "TIME_INVALID", "EFFECT_UNKNOWN")

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        first = problems[0]
        super().__init__(first.message, code=first.code, field=first.field)
        self.problems = problems


# ---- Campaign -> document ---------------------------------------------------------------------

def to_document(campaign: Campaign) -> dict[str, Any]:
    """The campaign as JSON-ready data (no id: the store's row holds it). Keys left at their
    defaults are left out, so a document says only what its author chose."""
    doc: dict[str, Any] = {
        "code": campaign.code, "nameEn": campaign.name_en, "nameFa": campaign.name_fa,
        "trigger": {"kind": campaign.trigger.kind, **({"name": campaign.trigger.name}
                                                      if campaign.trigger.name else {})},
        "effect": _effect_doc(campaign.effect),
        "funder": [{"partyId": f.party_id, "share": f.share} for f in campaign.funder],
        "startsAt": campaign.starts_at.isoformat(),
        "status": campaign.status, "priority": campaign.priority, "stacking": campaign.stacking,
    }
    if campaign.ends_at is not None:
        doc["endsAt"] = campaign.ends_at.isoformat()
    conditions = _conditions_doc(campaign.conditions)
    if conditions:
        doc["conditions"] = conditions
    limits = {key: getattr(campaign.limits, attr) for key, attr in _LIMITS
              if getattr(campaign.limits, attr) is not None}
    if limits:
        doc["limits"] = limits
    return doc


def _effect_doc(effect: CampaignEffect) -> dict[str, Any]:
    kind = _KIND_OF[type(effect)]
    if isinstance(effect, FixedPoints):
        return {"kind": kind, "points": effect.points}
    if isinstance(effect, PointsPerAmount):
        return {"kind": kind, "rate": str(effect.rate)}
    if isinstance(effect, Multiplier):
        return {"kind": kind, "factor": str(effect.factor)}
    if isinstance(effect, LotteryEntries):
        return {"kind": kind, "drawCode": effect.draw_code, "count": effect.count}
    return {"kind": kind, "rewardId": effect.reward_id}


def _conditions_doc(k: Conditions) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, attr, _ in _SETS:
        values = getattr(k, attr)
        if values is not None:
            doc[key] = sorted(values)
    if k.min_amount_minor is not None:
        doc["minAmount"] = k.min_amount_minor
    if k.max_amount_minor is not None:
        doc["maxAmount"] = k.max_amount_minor
    if k.hours is not None:
        doc["hours"] = {"start": k.hours.start.isoformat("minutes"),
                        "end": k.hours.end.isoformat("minutes")}
    if k.first_at_partner:
        doc["firstAtPartner"] = True
    if k.attributes:
        doc["attributes"] = [_attribute_doc(a) for a in k.attributes]
    return doc


def _attribute_doc(a: AttributeCondition) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": a.key}
    if a.one_of is not None:
        # Decimals as strings like everywhere else; order fixed so documents compare equal.
        doc["oneOf"] = sorted((_json_value(v) for v in a.one_of), key=repr)
    if a.at_least is not None:
        doc["atLeast"] = str(a.at_least)
    if a.at_most is not None:
        doc["atMost"] = str(a.at_most)
    return doc


def _json_value(value: Any) -> Any:
    return {"decimal": str(value)} if isinstance(value, Decimal) else value


# ---- document -> Campaign ---------------------------------------------------------------------

class _Reader:
    """Reads a document, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, field: str, code: str, message: str) -> None:
        self.problems.append(Problem(field, code, message))

    def mapping(self, doc: Mapping[str, Any], key: str, field: str,
                allowed: frozenset[str], *, required: bool = False) -> Mapping[str, Any]:
        value = doc.get(key)
        if value is None:
            if required:
                self.problem(field, "FIELD_REQUIRED", f"{field} is required")
            return {}
        if not isinstance(value, Mapping):
            self.problem(field, "WRONG_TYPE", f"{field} must be an object, got {value!r}")
            return {}
        self.unknown(value, field + ".", allowed)
        return value

    def unknown(self, doc: Mapping[str, Any], prefix: str, allowed: frozenset[str]) -> None:
        for key in sorted(set(doc) - allowed):
            self.problem(f"{prefix}{key}", "FIELD_UNKNOWN",
                         f"{prefix}{key} is not a campaign field (known here: "
                         f"{', '.join(sorted(allowed))})")

    def typed(self, doc: Mapping[str, Any], key: str, field: str, kind: type | tuple[type, ...],
              *, required: bool = False, default: Any = None) -> Any:
        value = doc.get(key)
        if value is None:
            if required:
                self.problem(field, "FIELD_REQUIRED", f"{field} is required")
            return default
        if isinstance(value, bool) and kind is int or not isinstance(value, kind):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(field, "WRONG_TYPE", f"{field} must be {_TYPE_NAMES.get(name, name)},"
                                              f" got {value!r}")
            return default
        return value

    def decimal(self, doc: Mapping[str, Any], key: str, field: str, *,
                required: bool = False) -> Decimal | None:
        value = doc.get(key)
        if value is None:
            if required:
                self.problem(field, "FIELD_REQUIRED", f"{field} is required")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if not isinstance(value, str):
            self.problem(field, "NOT_A_NUMBER", f"{field} is a decimal written as a string "
                                                f"(\"1.5\"), got {value!r}")
            return None
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            self.problem(field, "NOT_A_NUMBER", f"{field} must be a decimal number, got {value!r}")
            return None

    def time(self, doc: Mapping[str, Any], key: str, field: str, *,
             required: bool = False) -> dt.datetime | None:
        value = self.typed(doc, key, field, str, required=required)
        if value is None:
            return None
        try:
            at = dt.datetime.fromisoformat(value)
        except ValueError:
            self.problem(field, "TIME_INVALID",
                         f"{field} must be an ISO 8601 date and time with its UTC offset "
                         f"(2026-06-01T00:00:00+03:30), got {value!r}")
            return None
        if at.utcoffset() is None:
            self.problem(field, "TIME_INVALID",
                         f"{field} needs its UTC offset (…+03:30 or …Z), got {value!r}")
            return None
        return at

    def clock(self, doc: Mapping[str, Any], key: str, field: str) -> dt.time | None:
        value = self.typed(doc, key, field, str, required=True)
        if value is None:
            return None
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            self.problem(field, "TIME_INVALID", f"{field} is a local time like 22:00, "
                                                f"got {value!r}")
            return None


_TYPE_NAMES = {"str": "a string", "int": "a whole number", "bool": "true or false",
               "list": "a list"}


def from_document(doc: Any, *, id: int = 0) -> Campaign:
    """The campaign `doc` describes, with `id`; raises CampaignDocumentError naming every field
    that is missing, unknown or of the wrong type. Values are validation.validate's to judge."""
    r = _Reader()
    if not isinstance(doc, Mapping):
        raise CampaignDocumentError((Problem("", "WRONG_TYPE",
                                             "a campaign document is a JSON object"),))
    r.unknown(doc, "", _TOP)
    code = r.typed(doc, "code", "code", str, required=True, default="")
    name_en = r.typed(doc, "nameEn", "nameEn", str, required=True, default="")
    name_fa = r.typed(doc, "nameFa", "nameFa", str, required=True, default="")
    trigger_doc = r.mapping(doc, "trigger", "trigger", frozenset({"kind", "name"}), required=True)
    trigger = Trigger(r.typed(trigger_doc, "kind", "trigger.kind", str, required=bool(trigger_doc),
                              default="purchase"),
                      r.typed(trigger_doc, "name", "trigger.name", str, default=""))
    effect = _read_effect(r, doc)
    funder = _read_funder(r, doc.get("funder"))
    starts_at = r.time(doc, "startsAt", "startsAt", required=True)
    ends_at = r.time(doc, "endsAt", "endsAt")
    conditions = _read_conditions(r, r.mapping(doc, "conditions", "conditions", _CONDITION_KEYS))
    limits_doc = r.mapping(doc, "limits", "limits", frozenset(k for k, _ in _LIMITS))
    limits = Limits(**{attr: r.typed(limits_doc, key, f"limits.{key}", int)
                       for key, attr in _LIMITS})
    status = r.typed(doc, "status", "status", str, default="draft")
    priority = r.typed(doc, "priority", "priority", int, default=0)
    stacking = r.typed(doc, "stacking", "stacking", str, default="stackable")
    if r.problems or effect is None or starts_at is None:
        raise CampaignDocumentError(tuple(r.problems))
    return Campaign(id=id, code=code, name_en=name_en, name_fa=name_fa, trigger=trigger,
                    effect=effect, funder=funder, starts_at=starts_at, ends_at=ends_at,
                    conditions=conditions, limits=limits, status=status, priority=priority,
                    stacking=stacking)


def _read_effect(r: _Reader, doc: Mapping[str, Any]) -> CampaignEffect | None:
    effect = r.mapping(doc, "effect", "effect",
                       frozenset({"kind", "points", "rate", "factor", "rewardId", "drawCode",
                                  "count"}),
                       required=True)
    if not effect:
        return None
    kind = r.typed(effect, "kind", "effect.kind", str, required=True)
    if kind is None:
        return None
    if kind == "fixed":
        points = r.typed(effect, "points", "effect.points", int, required=True)
        return None if points is None else FixedPoints(points)
    if kind in ("per_amount", "multiplier"):
        key = "rate" if kind == "per_amount" else "factor"
        value = r.decimal(effect, key, f"effect.{key}", required=True)
        if value is None:
            return None
        return PointsPerAmount(value) if kind == "per_amount" else Multiplier(value)
    if kind == "issue_reward":
        reward = r.typed(effect, "rewardId", "effect.rewardId", int, required=True)
        return None if reward is None else IssueReward(reward)
    if kind == "lottery_entries":
        draw = r.typed(effect, "drawCode", "effect.drawCode", str, required=True)
        count = r.typed(effect, "count", "effect.count", int, required=True)
        return None if draw is None or count is None else LotteryEntries(draw, count)
    r.problem("effect.kind", "EFFECT_UNKNOWN",
              f"effect.kind must be one of {', '.join(EFFECT_KINDS)}, got {kind!r}")
    return None


def _read_funder(r: _Reader, value: Any) -> tuple[FunderShare, ...]:
    if value is None:
        r.problem("funder", "FIELD_REQUIRED", "funder is required: a list of "
                                              "{\"partyId\": …, \"share\": basis points}")
        return ()
    if not isinstance(value, list):
        r.problem("funder", "WRONG_TYPE", f"funder must be a list, got {value!r}")
        return ()
    parts = []
    for index, part in enumerate(value):
        field = f"funder[{index}]"
        if not isinstance(part, Mapping):
            r.problem(field, "WRONG_TYPE", f"{field} must be an object, got {part!r}")
            continue
        r.unknown(part, field + ".", frozenset({"partyId", "share"}))
        party = r.typed(part, "partyId", f"{field}.partyId", int, required=True)
        share = r.typed(part, "share", f"{field}.share", int, required=True)
        if party is not None and share is not None:
            parts.append(FunderShare(party, share))
    return tuple(parts)


_CONDITION_KEYS = frozenset({key for key, _, _ in _SETS} | {
    "minAmount", "maxAmount", "hours", "firstAtPartner", "attributes"})


def _read_conditions(r: _Reader, doc: Mapping[str, Any]) -> Conditions:
    sets: dict[str, frozenset[Any] | None] = {}
    for key, attr, kind in _SETS:
        field = f"conditions.{key}"
        values = r.typed(doc, key, field, list)
        if values is None:
            sets[attr] = None
            continue
        wrong = [v for v in values if isinstance(v, bool) or not isinstance(v, kind)]
        if wrong:
            r.problem(field, "WRONG_TYPE", f"{field} must list {_TYPE_NAMES[kind.__name__]}s, "
                                           f"got {wrong[0]!r}")
        sets[attr] = frozenset(values)
    hours = None
    hours_doc = r.mapping(doc, "hours", "conditions.hours", frozenset({"start", "end"}))
    if hours_doc:
        start = r.clock(hours_doc, "start", "conditions.hours.start")
        end = r.clock(hours_doc, "end", "conditions.hours.end")
        if start is not None and end is not None:
            hours = HourWindow(start, end)
    attributes = []
    for index, a in enumerate(r.typed(doc, "attributes", "conditions.attributes", list,
                                      default=[])):
        field = f"conditions.attributes[{index}]"
        if not isinstance(a, Mapping):
            r.problem(field, "WRONG_TYPE", f"{field} must be an object, got {a!r}")
            continue
        r.unknown(a, field + ".", frozenset({"key", "oneOf", "atLeast", "atMost"}))
        one_of = r.typed(a, "oneOf", f"{field}.oneOf", list)
        attributes.append(AttributeCondition(
            key=r.typed(a, "key", f"{field}.key", str, required=True, default=""),
            one_of=None if one_of is None else frozenset(_read_value(r, f"{field}.oneOf", v)
                                                         for v in one_of),
            at_least=r.decimal(a, "atLeast", f"{field}.atLeast"),
            at_most=r.decimal(a, "atMost", f"{field}.atMost")))
    return Conditions(
        **sets,
        min_amount_minor=r.typed(doc, "minAmount", "conditions.minAmount", int),
        max_amount_minor=r.typed(doc, "maxAmount", "conditions.maxAmount", int),
        hours=hours,
        first_at_partner=r.typed(doc, "firstAtPartner", "conditions.firstAtPartner", bool,
                                 default=False),
        attributes=tuple(attributes))


def _read_value(r: _Reader, field: str, value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"decimal"}:
        number = r.decimal(value, "decimal", field)
        return number if number is not None else ""
    if not isinstance(value, (str, int, bool)):
        r.problem(field, "WRONG_TYPE", f"{field} lists strings, whole numbers, true/false or "
                                       f"{{\"decimal\": \"4.5\"}}, got {value!r}")
        return ""
    return value
