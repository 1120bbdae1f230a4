"""The tier ladder as a document an operator edits: its JSON form and the one validation that the
console form and `pointsnet programme tiers set` both run (pure: the codes other things use
are an argument, gathered at the edge by network/programme/ladder_store.py).

The document (what `tiers show` prints and `tiers set FILE` reads, and each stored version):

    {"windowDays": 365,
     "tiers": [{"code": "blue", "nameEn": "Blue", "nameFa": "آبی", "threshold": 0,
                "earnMultiplier": "1", "retentionDays": 0}, ...]}

One window for the whole ladder, because the rules count one figure per member
(tiers.window); tiers run from the lowest up; the first tier is everyone's (threshold 0, no
retention). The metric is `points_earned`, the only one (tiers.METRICS), and may be omitted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from network.programme.tiers import MAX_MULTIPLIER, METRICS, TierDefinition
from network.programme.validation import Problem

CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # campaign_awards.tier_code is 32 characters
MAX_TIERS = 12
MAX_NAME = 40
WINDOW_DAYS = (1, 1096)  # a day up to three years
MAX_RETENTION_DAYS = 730
MULTIPLIER_PLACES = 4  # 1.2345: enough for any promise, and short to read

_TIER_KEYS = {"code", "nameEn", "nameFa", "metric", "threshold", "earnMultiplier",
              "retentionDays"}


def to_document(ladder: Sequence[TierDefinition]) -> dict[str, Any]:
    return {"windowDays": ladder[0].window.days if ladder else WINDOW_DAYS[1] // 3,
            "tiers": [{"code": t.code, "nameEn": t.name_en, "nameFa": t.name_fa,
                       "metric": t.metric, "threshold": t.threshold,
                       "earnMultiplier": str(t.earn_multiplier),
                       "retentionDays": t.retention.days} for t in ladder]}


def from_document(doc: Any, *, in_use: Mapping[str, str] | None = None
                  ) -> tuple[tuple[TierDefinition, ...], tuple[Problem, ...]]:
    """The ladder a document describes and every problem with it (the ladder is empty when the
    document has problems). `in_use`: tier code -> what uses it (a campaign's tier condition, a
    reward's visibility, a segment's rule), which the new ladder must keep."""
    problems: list[Problem] = []

    def problem(field: str, code: str, message: str) -> None:
        problems.append(Problem(field, code, message))

    if not isinstance(doc, Mapping) or not isinstance(doc.get("tiers"), list):
        problem("tiers", "TIER_LADDER_INVALID",
                'the ladder is an object {"windowDays": N, "tiers": [...]}')
        return (), tuple(problems)
    unknown = sorted(set(doc) - {"windowDays", "tiers"})
    if unknown:
        problem("tiers", "TIER_LADDER_INVALID", f"unknown keys {unknown}")
    window = _whole(doc.get("windowDays"))
    if window is None or not WINDOW_DAYS[0] <= window <= WINDOW_DAYS[1]:
        problem("windowDays", "TIER_WINDOW_INVALID",
                f"the window is a whole number of days from {WINDOW_DAYS[0]} to "
                f"{WINDOW_DAYS[1]}")
        window = 1
    # Values that are not of their field's type are reported here and stood in for, so that
    # `validate` still checks everything else; its reports on a stood-in value are dropped.
    ladder: list[TierDefinition] = []
    unread: set[str] = set()
    for index, item in enumerate(doc["tiers"]):
        below = ladder[-1].threshold if ladder else -1
        ladder.append(_tier(item, f"tiers[{index}]", window, below, problem, unread))
        if f"tiers[{index}].threshold" in unread:  # the next one cannot be said not to rise
            unread.add(f"tiers[{index + 1}].threshold")
    problems += [p for p in validate(ladder, in_use=in_use or {}) if p.field not in unread]
    return (() if problems else tuple(ladder)), tuple(problems)


def _whole(value: Any) -> int | None:
    """An int from a JSON number or a form's text; None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        return int(value)
    return None


def _tier(item: Any, where: str, window: int, below: int, problem: Any,
          unread: set[str]) -> TierDefinition:
    """Tier `where` of a document; a value of the wrong type is reported, added to `unread`
    and stood in for (a threshold just above the tier below's, no retention, a multiplier of
    1); names, code and metric are left to `validate`."""
    if not isinstance(item, Mapping):
        problem(where, "TIER_LADDER_INVALID", f"{where} must be an object")
        unread.update(f"{where}.{key}" for key in _TIER_KEYS)
        return TierDefinition("", "", "", "points_earned", below + 1,
                              dt.timedelta(days=window))
    unknown = sorted(set(item) - _TIER_KEYS)
    if unknown:
        problem(where, "TIER_LADDER_INVALID", f"{where}: unknown keys {unknown}")

    def text(key: str) -> str:
        value = item.get(key)
        return value.strip() if isinstance(value, str) else ""

    threshold = _whole(item.get("threshold"))
    if threshold is None:
        problem(f"{where}.threshold", "TIER_THRESHOLD_INVALID",
                f"{where}.threshold must be a whole number of points")
        unread.add(f"{where}.threshold")
        threshold = below + 1
    retention = _whole(item.get("retentionDays", 0))
    if retention is None:
        problem(f"{where}.retentionDays", "TIER_RETENTION_INVALID",
                f"{where}.retentionDays must be a whole number of days")
        unread.add(f"{where}.retentionDays")
        retention = 0
    try:
        multiplier = Decimal(str(item.get("earnMultiplier", "1")).strip())
        if not multiplier.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problem(f"{where}.earnMultiplier", "TIER_MULTIPLIER_INVALID",
                f"{where}.earnMultiplier must be a number from 1 to {MAX_MULTIPLIER}")
        unread.add(f"{where}.earnMultiplier")
        multiplier = Decimal(1)
    metric = item.get("metric", "points_earned")
    return TierDefinition(text("code"), text("nameEn"), text("nameFa"),
                          metric if isinstance(metric, str) else "?", threshold,
                          dt.timedelta(days=window), multiplier, dt.timedelta(days=retention))


def check(definitions: Sequence[TierDefinition]) -> None:
    """Refuse a ladder `tiers.qualify` cannot apply faithfully (ValueError with `validate`'s
    first problem, which names the tier and the field); an empty ladder is tiers off. What
    the rules' settings (rules.Programme) check on every ladder they are given."""
    problems = validate(definitions) if definitions else ()
    if problems:
        raise ValueError(problems[0].message)


def validate(ladder: Sequence[TierDefinition], *, in_use: Mapping[str, str] | None = None
             ) -> tuple[Problem, ...]:
    """Every problem with a ladder, each naming its field (`tiers[2].threshold`); empty when it
    may be put in force. What the rules need (`check`) and what an edit must respect."""
    problems: list[Problem] = []

    def problem(field: str, code: str, message: str) -> None:
        problems.append(Problem(field, code, message))

    if not ladder:
        problem("tiers", "TIER_LADDER_EMPTY", "the ladder needs at least one tier (everyone's)")
    if len(ladder) > MAX_TIERS:
        problem("tiers", "TIER_LADDER_INVALID", f"at most {MAX_TIERS} tiers")
    seen: set[str] = set()
    for index, tier in enumerate(ladder):
        where = f"tiers[{index}]"
        if not CODE.match(tier.code):
            problem(f"{where}.code", "TIER_CODE_INVALID",
                    f"{where}.code {tier.code!r}: a lowercase letter, then up to 31 lowercase "
                    "letters, digits or _")
        elif tier.code in seen:
            problem(f"{where}.code", "TIER_CODE_TAKEN", f"two tiers have the code {tier.code!r}")
        seen.add(tier.code)
        for field, name in (("nameEn", tier.name_en), ("nameFa", tier.name_fa)):
            if not name.strip():
                problem(f"{where}.{field}", "TIER_NAME_MISSING",
                        f"{where} needs a name in English and in Persian")
            elif len(name) > MAX_NAME:
                problem(f"{where}.{field}", "TIER_NAME_INVALID",
                        f"{where}.{field} is at most {MAX_NAME} characters")
        if tier.metric not in METRICS:
            problem(f"{where}.metric", "TIER_METRIC_UNKNOWN",
                    f"{where}.metric must be one of {sorted(METRICS)}")
        if index == 0 and tier.threshold != 0:
            problem(f"{where}.threshold", "TIER_THRESHOLD_INVALID",
                    "the first tier is everyone's, so its threshold is 0")
        if index and tier.threshold <= ladder[index - 1].threshold:
            problem(f"{where}.threshold", "TIER_THRESHOLD_NOT_RISING",
                    f"{where}.threshold must be above the tier below's "
                    f"({ladder[index - 1].threshold})")
        multiplier = tier.earn_multiplier
        if not 1 <= multiplier <= MAX_MULTIPLIER:
            problem(f"{where}.earnMultiplier", "TIER_MULTIPLIER_OUT_OF_RANGE",
                    f"{where}.earnMultiplier must be from 1 to {MAX_MULTIPLIER}")
        elif -multiplier.as_tuple().exponent > MULTIPLIER_PLACES:  # type: ignore[operator]
            problem(f"{where}.earnMultiplier", "TIER_MULTIPLIER_INVALID",
                    f"{where}.earnMultiplier has at most {MULTIPLIER_PLACES} decimal places")
        days = tier.retention.days
        if tier.retention % dt.timedelta(days=1) or not 0 <= days <= MAX_RETENTION_DAYS:
            problem(f"{where}.retentionDays", "TIER_RETENTION_INVALID",
                    f"{where}.retentionDays is a whole number of days from 0 to "
                    f"{MAX_RETENTION_DAYS}")
        elif index == 0 and days:
            problem(f"{where}.retentionDays", "TIER_RETENTION_INVALID",
                    "the first tier is everyone's, so it has no retention")
    windows = {t.window for t in ladder}
    if windows and (len(windows) > 1 or any(w % dt.timedelta(days=1) or not (
            WINDOW_DAYS[0] <= w.days <= WINDOW_DAYS[1]) for w in windows)):
        problem("windowDays", "TIER_WINDOW_INVALID",
                f"one window for every tier, a whole number of days from {WINDOW_DAYS[0]} "
                f"to {WINDOW_DAYS[1]}")
    for code, user in sorted((in_use or {}).items()):
        if code not in seen:
            problem("tiers", "TIER_IN_USE",
                    f"tier {code!r} cannot be removed: {user} names it")
    return tuple(problems)
