"""The reward editor's form read into the catalog's own terms, as a pure function: the fields
the store takes (`rewards_store.create` / `update_reward`), so the rules that judge them are the
API's and the CLI's (network/programme/rewards.validate) and so are the codes of a refusal.

A number that is not a whole number is passed on as typed: the rules then refuse it with the
field's own code (PRICE_NOT_POSITIVE, STOCK_OUT_OF_RANGE…), exactly as they refuse a number out
of range. A browser's date-time has no zone: it is read in the network's time zone
(POINTSNET_TIMEZONE), the zone settlement months are in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from network.programme.rewards import CODE_SOURCES, WITH_CODE, Reward, RewardSpec, Visibility
from network.programme.validation import Problem
from network.web.i18n import ascii_digits

# Form field -> spec field, for the plain text ones.
TEXTS = {"name_en": "name_en", "name_fa": "name_fa", "description_en": "description_en",
         "description_fa": "description_fa"}
# Optional whole numbers: empty means none (unlimited, no limit, never expires).
NUMBERS = ("price_points", "stock", "per_member_limit", "coupon_days", "value_minor")
WINDOW = {"valid_from": "validFrom", "valid_until": "validUntil"}
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# Every value the editor's inputs show, empty.
BLANK: dict[str, Any] = {
    "kind": "coupon", **dict.fromkeys(TEXTS, ""), "image_url": "", "has_image": False,
    **dict.fromkeys(NUMBERS, ""), **dict.fromkeys(WINDOW, ""), "tiers": (), "segments": (),
    "refund_on_expiry": False, "currency": "", "code_source": "generated", "charity": ""}


@dataclass(frozen=True)
class Sent:
    """What the form sent: one value per field, and the ticked boxes of the lists."""

    values: Mapping[str, str]
    tiers: Sequence[str] = ()
    segments: Sequence[str] = ()

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()


def _number(text: str) -> int | str | None:
    text = ascii_digits(text).replace(",", "").replace("٬", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # the rules refuse it under the field's own code


def _when(text: str, field: str, zone: ZoneInfo, problems: list[Problem]) -> dt.datetime | None:
    if not text:
        return None
    try:
        local = dt.datetime.strptime(ascii_digits(text)[:16], LOCAL_FORMAT)
    except ValueError:
        problems.append(Problem(field, "TIME_WITHOUT_ZONE",
                                f"{field} is a date and time such as 2026-12-01T09:00"))
        return None
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def changes(sent: Sent, *, zone: ZoneInfo, charity_id: Callable[[str], int | None]
            ) -> tuple[dict[str, Any], list[Problem]]:
    """The spec fields the form gives (every one: the editor shows the whole reward), and the
    problems only the form can have (a date that is not one). `charity_id`: a charity's code
    to its party id (None: unknown)."""
    problems: list[Problem] = []
    out: dict[str, Any] = {name: sent.get(field) for field, name in TEXTS.items()}
    for name in NUMBERS:
        out[name] = _number(sent.get(name))
    for name, field in WINDOW.items():
        out[name] = _when(sent.get(name), field, zone, problems)
    out["image_url"] = sent.get("image_url") or None
    out["visibility"] = Visibility(tuple(sent.tiers), tuple(sent.segments))
    out["refund_on_expiry"] = sent.get("refund_on_expiry") == "1"
    out["currency"] = sent.get("currency").upper() or None
    source = sent.get("code_source")
    if source in CODE_SOURCES:
        out["code_source"] = source
    charity = sent.get("charity")
    out["charity_id"] = (charity_id(charity) or -1) if charity else None  # -1: CHARITY_UNKNOWN
    if sent.get("remove_image") == "1":
        out["has_image"] = False
    return out, problems


def new_spec(kind: str, fields: Mapping[str, Any]) -> RewardSpec:
    """A new reward's spec: the code source the API picks when none is given."""
    source = fields.get("code_source") or ("generated" if kind in WITH_CODE else "none")
    return RewardSpec(**{**fields, "kind": kind, "code_source": source})


def shown(reward: Reward | None, zone: ZoneInfo, charity_code: str | None) -> dict[str, Any]:
    """The form's values for `reward` (None: a new one's defaults), as the inputs show them."""
    if reward is None:
        return {**BLANK, "coupon_days": "30"}
    s = reward.spec

    def local(at: dt.datetime | None) -> str:
        return at.astimezone(zone).strftime(LOCAL_FORMAT) if at else ""

    def number(value: int | None) -> str:
        return "" if value is None else str(value)

    return {"kind": s.kind, "name_en": s.name_en, "name_fa": s.name_fa,
            "description_en": s.description_en, "description_fa": s.description_fa,
            "image_url": s.image_url or "", "has_image": s.has_image,
            **{n: number(getattr(s, n)) for n in NUMBERS},
            "valid_from": local(s.valid_from), "valid_until": local(s.valid_until),
            "tiers": s.visibility.tiers, "segments": s.visibility.segments,
            "refund_on_expiry": s.refund_on_expiry, "currency": s.currency or "",
            "code_source": s.code_source, "charity": charity_code or ""}


def sent_back(sent: Sent, kind: str) -> dict[str, Any]:
    """A refused form's values shown again as typed."""
    return {**BLANK, **{k: v for k, v in sent.values.items() if k in BLANK}, "kind": kind,
            "tiers": tuple(sent.tiers), "segments": tuple(sent.segments),
            "refund_on_expiry": sent.get("refund_on_expiry") == "1"}
