"""Partners publish the rewards they honour and validate coupons at the till (scope `rewards`):
createReward, updateReward, setRewardStatus, uploadRewardCodes, redeemCoupon, refundCoupon, and
`partner { rewards }`. The use cases are network/programme/rewards_store.py and rewards_buy.py;
this module is their GraphQL shape. Every problem of a refused definition or upload is a
userError of its own, naming its field (`pricePoints`, `csv.line7`)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import graphene
from graphene import relay

from network import parties
from network.db.engine import Database
from network.gql.context import RequestContext
from network.gql.pagination import decode_cursor, encode_cursor, page_size, split_page
from network.gql.rewards import CouponStatus, RewardKind, decode_reward_id, reward_gid
from network.programme import reward_codes, rewards_buy, rewards_store
from network.programme.rewards import Reward, RewardError, RewardRefused, RewardSpec, Visibility
from network.programme.rewards_buy import Purchase
from network.programme.validation import Problem
from partners.gql.mutation_support import Call, PartnerMutation, every_problem, partner_errors
from partners.scopes import REWARDS

RewardStatus = graphene.Enum("RewardStatus", [(s.upper(), s) for s in
                                              ("draft", "active", "paused", "retired")],
                             description="DRAFT until activated; RETIRED is final.")
CodeSource = graphene.Enum("CodeSource", [(s.upper(), s) for s in ("pool", "generated", "none")],
                           description="POOL: codes you upload (uploadRewardCodes); GENERATED: "
                                       "the hub makes unguessable codes with a check character; "
                                       "NONE: no code (lottery entries, charity pledges).")


class PartnerReward(graphene.ObjectType):
    """A reward you honour, as published."""

    id = graphene.ID(required=True, description="A Reward id.")
    kind = graphene.Field(RewardKind, required=True)
    status = graphene.Field(RewardStatus, required=True)
    name_en = graphene.String(required=True)
    name_fa = graphene.String(required=True)
    description_en = graphene.String(required=True)
    description_fa = graphene.String(required=True)
    image_url = graphene.String()
    has_image = graphene.Boolean(required=True, description="An uploaded picture is shown.")
    price_points = graphene.Int(required=True)
    stock = graphene.Int(description="Left for sale; null: unlimited.")
    sold = graphene.Int(required=True)
    free_codes = graphene.Int(description="Codes in the pool not given yet (pool rewards).")
    valid_from = graphene.DateTime()
    valid_until = graphene.DateTime()
    coupon_days = graphene.Int()
    per_member_limit = graphene.Int()
    visible_to_tiers = graphene.List(graphene.NonNull(graphene.String), required=True)
    visible_to_segments = graphene.List(graphene.NonNull(graphene.String), required=True)
    code_source = graphene.Field(CodeSource, required=True)
    refund_on_expiry = graphene.Boolean(required=True)
    charity = graphene.String(description="The charity's code (charity pledges).")
    value_minor = graphene.Int(description="A gift card's value in minor units.")
    currency = graphene.String()
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)

    @classmethod
    def of(cls, r: Reward, free: int | None = None, charity: str | None = None
           ) -> PartnerReward:
        s = r.spec
        return cls(id=reward_gid(r.id), kind=s.kind, status=r.status, name_en=s.name_en,
                   name_fa=s.name_fa, description_en=s.description_en,
                   description_fa=s.description_fa, image_url=s.image_url,
                   has_image=s.has_image,
                   price_points=s.price_points, stock=s.stock, sold=r.sold or 0, free_codes=free,
                   valid_from=s.valid_from, valid_until=s.valid_until, coupon_days=s.coupon_days,
                   per_member_limit=s.per_member_limit, visible_to_tiers=list(s.visibility.tiers),
                   visible_to_segments=list(s.visibility.segments), code_source=s.code_source,
                   refund_on_expiry=s.refund_on_expiry, charity=charity,
                   value_minor=s.value_minor, currency=s.currency, created_at=r.created_at,
                   updated_at=r.updated_at)


def shown(db: Database, reward: Reward) -> PartnerReward:
    def read(conn: Any) -> PartnerReward:
        free = (rewards_store.free_codes(conn, [reward.id]).get(reward.id, 0)
                if reward.spec.code_source == "pool" else None)
        charity = None
        if reward.spec.charity_id is not None:
            found = parties.get(conn, reward.spec.charity_id, "charity")
            charity = found.code if found else None
        return PartnerReward.of(reward, free, charity)

    return db.read(read)


class PartnerCoupon(graphene.ObjectType):
    """A coupon a member bought, as the honouring partner sees it at the till."""

    id = graphene.ID(required=True)
    reward_id = graphene.ID(required=True)
    code = graphene.String()
    status = graphene.Field(CouponStatus, required=True)
    points = graphene.Int(required=True)
    bought_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime()
    used_at = graphene.DateTime()

    @classmethod
    def of(cls, p: Purchase) -> PartnerCoupon:
        return cls(id=relay.Node.to_global_id("PartnerCoupon", str(p.id)),
                   reward_id=reward_gid(p.reward_id), code=p.code, status=p.status,
                   points=p.points, bought_at=p.bought_at, expires_at=p.expires_at,
                   used_at=p.used_at)


class PartnerRewardEdge(graphene.ObjectType):
    node = graphene.Field(PartnerReward, required=True)
    cursor = graphene.String(required=True)


class PartnerRewardConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(PartnerRewardEdge), required=True)
    page_info = graphene.Field(relay.PageInfo, required=True)


def rewards_page(ctx: RequestContext, first: int | None, after: str | None
                 ) -> PartnerRewardConnection:
    """`partner { rewards(first, after) }`: the rewards you honour, oldest first."""
    partner = ctx.partner(REWARDS)
    size = page_size(first)
    cursor = decode_cursor(after, "reward")
    found = ctx.db.read(rewards_store.list_rewards, partner_id=partner.party_id,
                        after_id=cursor or 0, limit=size + 1, sold=True)
    page, has_next = split_page(found, size)
    edges = [PartnerRewardEdge(node=shown(ctx.db, r), cursor=encode_cursor("reward", r.id))
             for r in page]
    return PartnerRewardConnection(edges=edges, page_info=relay.PageInfo(
        has_next_page=has_next, has_previous_page=cursor is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None))


# ---- input ------------------------------------------------------------------------------------

_FIELDS_DOC = {
    "name_en": "Shown to members reading English; 1 to 120 characters.",
    "name_fa": "Shown to members reading Persian; 1 to 120 characters.",
    "price_points": "What it costs, in points (1 to 1,000,000,000).",
    "stock": "How many may be sold; omit for unlimited.",
    "valid_from": "On sale from (ISO 8601 with an offset); at once when omitted.",
    "valid_until": "On sale until (exclusive); no end when omitted.",
    "coupon_days": "A bought code is usable this many days (1 to 3660); 30 when omitted on "
                   "create; never expires when cleared.",
    "per_member_limit": "At most this many per member; no limit when omitted.",
    "visible_to_tiers": "Only members of these tiers see and buy it (tier codes).",
    "visible_to_segments": "Only members of these segments see and buy it (segment codes).",
    "refund_on_expiry": "An unused code past its time gives the points back (default false).",
    "charity": "A charity pledge's charity (its party code).",
    "value_minor": "A gift card's value in minor units (with currency).",
}


def _spec_fields() -> dict[str, Any]:
    d = _FIELDS_DOC
    return {
        "name_en": graphene.String(description=d["name_en"]),
        "name_fa": graphene.String(description=d["name_fa"]),
        "description_en": graphene.String(), "description_fa": graphene.String(),
        "image_url": graphene.String(description="An http(s) address of the picture."),
        "image_base64": graphene.String(description="Or the picture itself, uploaded: a PNG, "
                                                    "JPEG or WebP of at most 64 KiB, base64."),
        "price_points": graphene.Int(description=d["price_points"]),
        "stock": graphene.Int(description=d["stock"]),
        "valid_from": graphene.DateTime(description=d["valid_from"]),
        "valid_until": graphene.DateTime(description=d["valid_until"]),
        "coupon_days": graphene.Int(description=d["coupon_days"]),
        "per_member_limit": graphene.Int(description=d["per_member_limit"]),
        "visible_to_tiers": graphene.List(graphene.NonNull(graphene.String),
                                          description=d["visible_to_tiers"]),
        "visible_to_segments": graphene.List(graphene.NonNull(graphene.String),
                                             description=d["visible_to_segments"]),
        "refund_on_expiry": graphene.Boolean(description=d["refund_on_expiry"]),
        "charity": graphene.String(description=d["charity"]),
        "value_minor": graphene.Int(description=d["value_minor"]),
        "currency": graphene.String(description="ISO 4217, with valueMinor."),
    }


CreateRewardInput = type("CreateRewardInput", (graphene.InputObjectType,), {
    "__doc__": "A new reward you honour; it starts as a draft.",
    **_spec_fields(),
    "kind": RewardKind(required=True),
    "name_en": graphene.String(required=True, description=_FIELDS_DOC["name_en"]),
    "name_fa": graphene.String(required=True, description=_FIELDS_DOC["name_fa"]),
    "price_points": graphene.Int(required=True, description=_FIELDS_DOC["price_points"]),
    "code_source": CodeSource(description="GENERATED when omitted for coupons and gift cards, "
                                          "NONE for the other kinds."),
})
Clearable = graphene.Enum("RewardClearableField", [(n, n) for n in (
    "stock", "validFrom", "validUntil", "couponDays", "perMemberLimit", "imageUrl",
    "image", "visibility")], description="A field updateReward may set back to none "
                                         "(unlimited, no end, no limit, no picture, everyone).")
UpdateRewardInput = type("UpdateRewardInput", (graphene.InputObjectType,), {
    "__doc__": "The fields to change; those omitted stay as they are.",
    "reward_id": graphene.ID(required=True),
    **_spec_fields(),
    "code_source": CodeSource(),
    "clear": graphene.List(graphene.NonNull(Clearable),
                           description="Fields to set back to none (image: the uploaded "
                                       "picture)."),
})

_CLEARED = {"stock": "stock", "validFrom": "valid_from", "validUntil": "valid_until",
            "couponDays": "coupon_days", "perMemberLimit": "per_member_limit",
            "imageUrl": "image_url"}


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def spec_changes(db: Database, input: Any) -> dict[str, Any]:
    """The spec fields the input gives (snake_case), charity code turned into its id."""
    out: dict[str, Any] = {}
    for name in ("name_en", "name_fa", "description_en", "description_fa", "image_url",
                 "price_points", "stock", "valid_from", "valid_until", "coupon_days",
                 "per_member_limit", "refund_on_expiry", "value_minor", "currency",
                 "code_source", "kind"):
        value = input.get(name)
        if value is not None:
            out[name] = _value(value)
    for name in ("valid_from", "valid_until"):
        if isinstance(out.get(name), dt.datetime) and out[name].tzinfo is not None:
            out[name] = out[name].astimezone(dt.UTC)
    tiers, segments = input.get("visible_to_tiers"), input.get("visible_to_segments")
    if tiers is not None or segments is not None:
        out["visibility"] = Visibility(tuple(tiers or ()), tuple(segments or ()))
    if input.get("charity") is not None:
        found = db.read(parties.by_code, input["charity"])
        out["charity_id"] = found if found is not None else -1  # -1: CHARITY_UNKNOWN
    for name in input.get("clear") or ():
        name = _value(name)
        if name == "visibility":
            out["visibility"] = Visibility()
        elif name == "image":
            out["has_image"] = False
        else:
            out[_CLEARED[name]] = None
    return out


def picture_of(input: Any) -> bytes | None:
    """The uploaded picture's bytes, or IMAGE_INVALID for text that is not base64."""
    raw = input.get("image_base64")
    if raw is None:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise RewardRefused([Problem("imageBase64", "IMAGE_INVALID",
                                     "imageBase64 is not base64")]) from None


def spec_of(changes: dict[str, Any]) -> RewardSpec:
    kind = changes.get("kind", "coupon")
    code_source = changes.get("code_source") or (
        "generated" if kind in ("coupon", "gift_card") else "none")
    return RewardSpec(**{**changes, "code_source": code_source})


class _RewardMutation(PartnerMutation):
    """A reward write: every problem of a refused definition or upload is its own userError."""

    class Meta:
        abstract = True

    scope = REWARDS

    @classmethod
    def mutate(cls, root: object, info: graphene.ResolveInfo, input: Any) -> Any:
        return every_problem(cls, info, input)


_DEFINITION = (RewardRefused, RewardError.only("REWARD_NOT_FOUND", "CODE_SOURCE_FIXED"))


class CreateReward(_RewardMutation):
    """Publish a reward you honour, as a draft (activate it with setRewardStatus)."""

    class Arguments:
        input = CreateRewardInput(required=True)

    errors = partner_errors("CreateReward", RewardRefused)
    reward = graphene.Field(PartnerReward, description="As saved; null when refused.")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> CreateReward:
        spec = spec_of(spec_changes(call.ctx.db, input))
        saved = rewards_store.create(call.ctx.db, partner_id=call.partner.party_id, spec=spec,
                                     scope=call.scope, idempotency_key=call.idempotency_key,
                                     now=call.ctx.now, picture=picture_of(input))
        return cls(reward=shown(call.ctx.db, saved), user_errors=[])


class UpdateReward(_RewardMutation):
    """Change some fields of a reward you honour (never its kind)."""

    class Arguments:
        input = UpdateRewardInput(required=True)

    errors = partner_errors("UpdateReward", *_DEFINITION)
    reward = graphene.Field(PartnerReward, description="As saved; null when refused.")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> UpdateReward:
        reward_id = decode_reward_id(input.get("reward_id"))
        changes = spec_changes(call.ctx.db, input)
        changes.pop("kind", None)
        saved = rewards_store.update_reward(
            call.ctx.db, partner_id=call.partner.party_id, reward_id=reward_id, changes=changes,
            scope=call.scope, idempotency_key=call.idempotency_key, now=call.ctx.now,
            picture=picture_of(input))
        return cls(reward=shown(call.ctx.db, saved), user_errors=[])


class SetRewardStatusInput(graphene.InputObjectType):
    reward_id = graphene.ID(required=True)
    status = RewardStatus(required=True, description="ACTIVE, PAUSED or RETIRED.")


class SetRewardStatus(_RewardMutation):
    """Put a reward on sale, pause it, or retire it for good."""

    class Arguments:
        input = SetRewardStatusInput(required=True)

    errors = partner_errors("SetRewardStatus",
                            RewardError.only("REWARD_NOT_FOUND", "STATUS_CHANGE_NOT_ALLOWED"))
    reward = graphene.Field(PartnerReward)
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> SetRewardStatus:
        saved = rewards_store.set_status(
            call.ctx.db, partner_id=call.partner.party_id,
            reward_id=decode_reward_id(input.get("reward_id")), status=_value(input.status),
            scope=call.scope, idempotency_key=call.idempotency_key, now=call.ctx.now)
        return cls(reward=shown(call.ctx.db, saved), user_errors=[])


class UploadRewardCodesInput(graphene.InputObjectType):
    reward_id = graphene.ID(required=True, description="A reward of yours with codeSource POOL.")
    csv = graphene.String(required=True, description=(
        f"One code a line (first column; an optional header line `code`), "
        f"{reward_codes.MIN_LENGTH} to {reward_codes.MAX_LENGTH} letters, digits, '.', '_' or "
        f"'-'; at most {reward_codes.MAX_CODES_PER_UPLOAD:,} codes. Codes are kept upper case "
        "without spaces or hyphens. Any bad line (malformed, repeated in the file, or already "
        "one of your codes) refuses the whole upload, each named as csv.line<N>."))


class UploadRewardCodes(_RewardMutation):
    """Add codes to a pool reward: all of the file, or none of it."""

    class Arguments:
        input = UploadRewardCodesInput(required=True)

    errors = partner_errors("UploadRewardCodes", RewardRefused,
                            RewardError.only("REWARD_NOT_FOUND", "CODE_SOURCE_NOT_POOL"))
    reward = graphene.Field(PartnerReward)
    added = graphene.Int(description="Codes added by this upload (0 on a replay).")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> UploadRewardCodes:
        saved, added = rewards_store.upload_codes(
            call.ctx.db, partner_id=call.partner.party_id,
            reward_id=decode_reward_id(input.get("reward_id")), csv_text=input.csv,
            scope=call.scope, idempotency_key=call.idempotency_key, now=call.ctx.now)
        return cls(reward=shown(call.ctx.db, saved), added=added, user_errors=[])


class CouponInput(graphene.InputObjectType):
    code = graphene.String(required=True, description="As the member shows it; case, spaces "
                                                      "and hyphens do not matter.")


_TILL = ("COUPON_UNKNOWN", "COUPON_MISTYPED", "COUPON_OTHER_PARTNER", "CODE_REQUIRED")


class RedeemCoupon(_RewardMutation):
    """Use a member's coupon at your till: valid once, before it expires."""

    class Arguments:
        input = CouponInput(required=True)

    errors = partner_errors("RedeemCoupon", RewardError.only(
        *_TILL, "COUPON_ALREADY_USED", "COUPON_EXPIRED", "COUPON_REFUNDED"))
    coupon = graphene.Field(PartnerCoupon, description="The coupon, now USED; null when "
                                                       "refused.")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> RedeemCoupon:
        used = rewards_buy.redeem_coupon(call.ctx.db, partner_id=call.partner.party_id,
                                         code=input.code, scope=call.scope,
                                         idempotency_key=call.idempotency_key, now=call.ctx.now)
        return cls(coupon=PartnerCoupon.of(used), user_errors=[])


class RefundCoupon(_RewardMutation):
    """Give an unused coupon's points back to the member (to the lots they came from)."""

    class Arguments:
        input = CouponInput(required=True)

    errors = partner_errors("RefundCoupon", RewardError.only(
        *_TILL, "COUPON_NOT_REFUNDABLE", "COUPON_REFUNDED"))
    coupon = graphene.Field(PartnerCoupon, description="The coupon, now REFUNDED.")
    user_errors = errors.field()

    @classmethod
    def execute(cls, call: Call, input: Any) -> RefundCoupon:
        refunded = rewards_buy.refund_coupon(call.ctx.db, partner_id=call.partner.party_id,
                                             code=input.code, scope=call.scope,
                                             idempotency_key=call.idempotency_key,
                                             now=call.ctx.now)
        return cls(coupon=PartnerCoupon.of(refunded), user_errors=[])
