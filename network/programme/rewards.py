"""The catalog's rules as pure functions: what a reward is, what makes one valid, who may see and
buy it, and what a coupon at a till may be refused for. The store (rewards_store.py) and the
purchase (rewards_buy.py) put the database around them.

Kinds:
- `coupon`: a discount or a free product at the honouring partner, fulfilled by a code;
- `gift_card`: a money value at that partner, fulfilled by a code;
- `lottery_entry`: a record that the member bought an entry (the lottery reads it), no code;
- `charity_pledge`: points to a named charity, booked as a donation (sink = the charity).
A coupon or gift card's points are consumed with sink = the honouring partner, so settlement
pays that partner for the issuers' points through the redemption path it already has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlparse

from network.errors import HubError
from network.ledger.receipts import MAX_POINTS
from network.programme.validation import Problem

KINDS = ("coupon", "gift_card", "lottery_entry", "charity_pledge")
STATUSES = ("draft", "active", "paused", "retired")
CODE_SOURCES = ("pool", "generated", "none")
WITH_CODE = ("coupon", "gift_card")
# From -> the statuses it may go to; retired is final.
MOVES: Mapping[str, tuple[str, ...]] = {
    "draft": ("active", "retired"), "active": ("paused", "retired"),
    "paused": ("active", "retired"), "retired": (),
}
MAX_NAME, MAX_DESCRIPTION, MAX_URL = 120, 2000, 500
MAX_STOCK = 10_000_000
MAX_COUPON_DAYS = 3660
MAX_MEMBER_LIMIT = 1000
MAX_VALUE_MINOR = 100_000_000_00
MAX_IMAGE_BYTES = 64 * 1024
# The pictures a partner may upload, known by their first bytes (never by what the sender says).
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_type(data: bytes) -> str | None:
    """An uploaded picture's media type, or None when it is no PNG, JPEG or WebP."""
    for magic, media in _IMAGE_MAGIC:
        if data.startswith(magic):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(data: bytes) -> tuple[str, tuple[Problem, ...]]:
    """The media type of an uploaded picture, or the problems with it."""
    if len(data) > MAX_IMAGE_BYTES:
        return "", (Problem("imageBase64", "IMAGE_TOO_LARGE",
                            f"a picture is at most {MAX_IMAGE_BYTES // 1024} KiB, got "
                            f"{len(data) // 1024} KiB"),)
    media = image_type(data)
    if media is None:
        return "", (Problem("imageBase64", "IMAGE_INVALID", "a picture is a PNG, JPEG or WebP "
                                                            "file"),)
    return media, ()


@dataclass(frozen=True, slots=True)
class Visibility:
    """Who sees a reward: everyone (both empty), members of these tiers, or of these
    segments."""

    tiers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()

    def as_json(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if self.tiers:
            out["tiers"] = list(self.tiers)
        if self.segments:
            out["segments"] = list(self.segments)
        return out

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Visibility:
        data = data or {}
        return cls(tuple(data.get("tiers") or ()), tuple(data.get("segments") or ()))

    def admits(self, tier: str | None, segments: Iterable[str]) -> bool:
        if self.tiers:
            return tier in self.tiers
        if self.segments:
            return bool(set(self.segments) & set(segments))
        return True


@dataclass(frozen=True, slots=True)
class RewardSpec:
    """What a partner (or staff) says a reward is; the store adds id, status and counts."""

    kind: str
    name_en: str
    name_fa: str
    price_points: int
    description_en: str = ""
    description_fa: str = ""
    image_url: str | None = None
    has_image: bool = False  # an uploaded picture (served by the hub); its bytes stay apart
    stock: int | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    coupon_days: int | None = 30
    per_member_limit: int | None = None
    visibility: Visibility = field(default_factory=Visibility)
    code_source: str = "generated"
    refund_on_expiry: bool = False
    charity_id: int | None = None
    value_minor: int | None = None
    currency: str | None = None


SPEC_FIELDS = tuple(f.name for f in fields(RewardSpec))


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    partner_id: int
    status: str
    sold: int | None  # None when not read (the member's catalog has no need of it)
    spec: RewardSpec
    created_at: dt.datetime
    updated_at: dt.datetime

    def name(self, language: str) -> str:
        return self.spec.name_fa if language == "fa" else self.spec.name_en

    def description(self, language: str) -> str:
        return self.spec.description_fa if language == "fa" else self.spec.description_en

    @property
    def has_code(self) -> bool:
        return self.spec.code_source != "none"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def merged(spec: RewardSpec, changes: Mapping[str, Any]) -> RewardSpec:
    """`spec` with the given fields replaced (an update names only what changes)."""
    return replace(spec, **{k: v for k, v in changes.items() if k in SPEC_FIELDS})


def validate(spec: RewardSpec, *, tiers: Iterable[str], segments: Iterable[str],
             charity_known: bool = True) -> tuple[Problem, ...]:
    """Every problem with `spec`, each naming its input field; empty when it may be saved."""
    p: list[Problem] = []

    def bad(name: str, code: str, message: str) -> None:
        p.append(Problem(name, code, message))

    if spec.kind not in KINDS:
        bad("kind", "KIND_UNKNOWN", f"kind is one of {', '.join(KINDS)}")
    for name, text, most in (("nameEn", spec.name_en, MAX_NAME), ("nameFa", spec.name_fa, MAX_NAME),
                             ("descriptionEn", spec.description_en, MAX_DESCRIPTION),
                             ("descriptionFa", spec.description_fa, MAX_DESCRIPTION)):
        if name.startswith("name") and not (text or "").strip():
            bad(name, "NAME_REQUIRED", f"{name} is required (members read the catalog in "
                                       "English and Persian)")
        elif len(text or "") > most:
            bad(name, "TEXT_TOO_LONG", f"{name} is at most {most} characters")
    if spec.image_url is not None:
        url = urlparse(spec.image_url)
        if url.scheme not in ("https", "http") or not url.netloc or len(spec.image_url) > MAX_URL:
            bad("imageUrl", "IMAGE_URL_INVALID", f"imageUrl is an http(s) address of at most "
                                                 f"{MAX_URL} characters")
    if not _whole(spec.price_points) or spec.price_points <= 0:
        bad("pricePoints", "PRICE_NOT_POSITIVE", "pricePoints is a whole number above zero")
    elif spec.price_points > MAX_POINTS:
        bad("pricePoints", "PRICE_TOO_LARGE", f"pricePoints is at most {MAX_POINTS:,}")
    if spec.stock is not None and (not _whole(spec.stock) or not 0 <= spec.stock <= MAX_STOCK):
        bad("stock", "STOCK_OUT_OF_RANGE", f"stock is 0 to {MAX_STOCK:,}, or null for unlimited")
    if spec.per_member_limit is not None and (
            not _whole(spec.per_member_limit)
            or not 1 <= spec.per_member_limit <= MAX_MEMBER_LIMIT):
        bad("perMemberLimit", "LIMIT_OUT_OF_RANGE",
            f"perMemberLimit is 1 to {MAX_MEMBER_LIMIT}, or null for no limit")
    if spec.coupon_days is not None and (not _whole(spec.coupon_days)
                                         or not 1 <= spec.coupon_days <= MAX_COUPON_DAYS):
        bad("couponDays", "COUPON_DAYS_OUT_OF_RANGE",
            f"couponDays is 1 to {MAX_COUPON_DAYS}, or null for codes that never expire")
    for name, at in (("validFrom", spec.valid_from), ("validUntil", spec.valid_until)):
        if at is not None and at.tzinfo is None:
            bad(name, "TIME_WITHOUT_ZONE", f"{name} needs a UTC offset")
    if (spec.valid_from is not None and spec.valid_until is not None
            and spec.valid_from.tzinfo and spec.valid_until.tzinfo
            and spec.valid_until <= spec.valid_from):
        bad("validUntil", "WINDOW_EMPTY", "validUntil is after validFrom")
    _visibility(spec.visibility, set(tiers), set(segments), bad)
    _kind_parts(spec, charity_known, bad)
    return tuple(p)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _visibility(v: Visibility, tiers: set[str], segments: set[str], bad: Any) -> None:
    if v.tiers and v.segments:
        bad("visibility", "VISIBILITY_CONFLICT",
            "a reward is shown to everyone, to tiers, or to segments: not tiers and segments")
    for code in v.tiers:
        if code not in tiers:
            bad("visibility.tiers", "TIER_UNKNOWN", f"no tier {code!r}; tiers are "
                                                    f"{', '.join(sorted(tiers))}")
    for code in v.segments:
        if code not in segments:
            bad("visibility.segments", "SEGMENT_UNKNOWN", f"no segment {code!r}")


def _kind_parts(spec: RewardSpec, charity_known: bool, bad: Any) -> None:
    if spec.code_source not in CODE_SOURCES:
        bad("codeSource", "CODE_SOURCE_UNKNOWN", "codeSource is pool, generated or none")
    elif spec.kind in WITH_CODE and spec.code_source == "none":
        bad("codeSource", "CODE_SOURCE_NOT_FOR_KIND",
            f"a {spec.kind} is fulfilled by a code: codeSource is pool or generated")
    elif spec.kind in ("lottery_entry", "charity_pledge") and spec.code_source != "none":
        bad("codeSource", "CODE_SOURCE_NOT_FOR_KIND", f"a {spec.kind} has no code: codeSource "
                                                      "is none")
    if spec.kind == "charity_pledge":
        if spec.charity_id is None:
            bad("charity", "CHARITY_REQUIRED", "a charity pledge names its charity")
        elif not charity_known:
            bad("charity", "CHARITY_UNKNOWN", "no charity with this code")
    elif spec.charity_id is not None:
        bad("charity", "CHARITY_NOT_FOR_KIND", "only a charity pledge names a charity")
    if spec.kind == "gift_card":
        if spec.value_minor is None or not _whole(spec.value_minor) or not (
                0 < spec.value_minor <= MAX_VALUE_MINOR):
            bad("valueMinor", "VALUE_REQUIRED", "a gift card has a value in minor units above "
                                                "zero")
        if not (isinstance(spec.currency, str) and len(spec.currency) == 3
                and spec.currency.isalpha() and spec.currency.isupper()):
            bad("currency", "INVALID_CURRENCY", "currency is an ISO 4217 code such as EUR")
    elif spec.value_minor is not None:
        bad("valueMinor", "VALUE_NOT_FOR_KIND", "only a gift card has a money value")


# ---- buying -----------------------------------------------------------------------------------

class RewardError(HubError):
    """A refusal about a reward, a purchase or a coupon; the code says which."""

    code = "REWARD_NOT_FOUND"
    codes = ("REWARD_NOT_FOUND", "REWARD_NOT_AVAILABLE", "OUT_OF_STOCK", "CODES_EXHAUSTED",
             "MEMBER_LIMIT_REACHED", "STATUS_CHANGE_NOT_ALLOWED", "CODE_SOURCE_NOT_POOL",
             "CODE_SOURCE_FIXED", "COUPON_UNKNOWN", "COUPON_MISTYPED", "COUPON_OTHER_PARTNER",
             "COUPON_ALREADY_USED", "COUPON_EXPIRED", "COUPON_REFUNDED", "COUPON_NOT_REFUNDABLE",
             "CODE_REQUIRED")

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


class RewardRefused(HubError):
    """A reward definition or a code upload refused: `problems` lists every reason."""

    code = "REWARD_INVALID"
    codes = ("REWARD_INVALID", "KIND_UNKNOWN", "NAME_REQUIRED", "TEXT_TOO_LONG",
             "IMAGE_URL_INVALID", "PRICE_NOT_POSITIVE", "PRICE_TOO_LARGE", "STOCK_OUT_OF_RANGE",
             "LIMIT_OUT_OF_RANGE", "COUPON_DAYS_OUT_OF_RANGE", "TIME_WITHOUT_ZONE",
             "WINDOW_EMPTY", "VISIBILITY_CONFLICT", "TIER_UNKNOWN", "SEGMENT_UNKNOWN",
             "CODE_SOURCE_UNKNOWN", "CODE_SOURCE_NOT_FOR_KIND", "CHARITY_REQUIRED",
             "CHARITY_UNKNOWN", "CHARITY_NOT_FOR_KIND", "VALUE_REQUIRED", "INVALID_CURRENCY",
             "VALUE_NOT_FOR_KIND", "CODES_EMPTY", "TOO_MANY_CODES", "CODE_MALFORMED",
             "CODE_DUPLICATE_IN_FILE", "CODE_EXISTS", "PARTY_UNKNOWN", "IMAGE_TOO_LARGE",
             "IMAGE_INVALID")

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, code=first.code, field=first.field)


def on_sale(reward: Reward, at: dt.datetime) -> bool:
    s = reward.spec
    return (reward.status == "active"
            and (s.valid_from is None or s.valid_from <= at)
            and (s.valid_until is None or at < s.valid_until))


def check_buyable(reward: Reward, at: dt.datetime, *, tier: str | None,
                  segments: Iterable[str], bought_before: int) -> None:
    """Why this member may not buy this reward now, before any points move (the stock is
    taken afterwards, in the same transaction, by a guarded update)."""
    if not reward.spec.visibility.admits(tier, segments):
        raise RewardError("REWARD_NOT_FOUND", "no reward with this id for you", "rewardId")
    if not on_sale(reward, at):
        raise RewardError("REWARD_NOT_AVAILABLE", "this reward is not on sale now", "rewardId")
    limit = reward.spec.per_member_limit
    if limit is not None and bought_before >= limit:
        raise RewardError("MEMBER_LIMIT_REACHED",
                          f"you have bought this reward {bought_before} times; the limit is "
                          f"{limit}", "rewardId")


def coupon_expiry(reward: Reward, bought_at: dt.datetime) -> dt.datetime | None:
    days = reward.spec.coupon_days
    return None if days is None or not reward.has_code else bought_at + dt.timedelta(days=days)


def check_redeemable(status: str, expires_at: dt.datetime | None, at: dt.datetime) -> None:
    """A coupon at the till: only an issued one inside its time is good."""
    if status == "used":
        raise RewardError("COUPON_ALREADY_USED", "this coupon was already used", "code")
    if status == "refunded":
        raise RewardError("COUPON_REFUNDED", "this coupon was refunded", "code")
    if status == "expired" or (expires_at is not None and expires_at <= at):
        raise RewardError("COUPON_EXPIRED", "this coupon has expired", "code")


def check_move(current: str, wanted: str) -> None:
    if wanted not in MOVES.get(current, ()):
        raise RewardError("STATUS_CHANGE_NOT_ALLOWED",
                          f"a {current} reward cannot become {wanted}", "status")
