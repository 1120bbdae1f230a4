"""The catalog's member face: `me { catalog(partner:, affordable:) rewards }` and `buyReward`,
plus the enums partners' slice shares (partners/gql/rewards.py)."""

from __future__ import annotations

from typing import Any

import graphene
from graphql_relay import from_global_id, to_global_id

from network import parties
from network.errors import HubError
from network.gql.context import RequestContext
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation
from network.gql.pagination import parse_key
from network.ledger.errors import (
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    InsufficientPoints,
)
from network.programme import rewards_buy, rewards_catalog
from network.programme.rewards import RewardError
from network.programme.rewards_buy import Purchase
from network.programme.rewards_catalog import Offer
from network.programme.rewards_store import get
from network.wallet import parties_view
from network.wallet.qr import card_svg

RewardKind = graphene.Enum("RewardKind", [(k.upper(), k) for k in
                                          ("coupon", "gift_card", "lottery_entry",
                                           "charity_pledge")],
                           description="COUPON and GIFT_CARD are fulfilled by a code; "
                                       "LOTTERY_ENTRY is an entry in a draw; CHARITY_PLEDGE gives "
                                       "the points to a charity.")
CouponStatus = graphene.Enum("CouponStatus", [(s.upper(), s) for s in
                                              ("issued", "used", "expired", "refunded")],
                             description="ISSUED until used at the till, or expired or refunded.")


def reward_gid(reward_id: int) -> str:
    return to_global_id("Reward", str(reward_id))


def decode_reward_id(value: str | None, field: str = "rewardId") -> int:
    """A Reward id, or RewardError REWARD_NOT_FOUND (the member cannot tell junk from another
    member's unseen reward, and needs not)."""
    try:
        kind, raw = from_global_id(value or "")
    except Exception as exc:  # noqa: BLE001 - graphql_relay raises several types on junk
        raise RewardError("REWARD_NOT_FOUND", "no reward with this id", field) from exc
    key = parse_key(raw) if kind == "Reward" else None
    if key is None:
        raise RewardError("REWARD_NOT_FOUND", "no reward with this id", field)
    return key


class CatalogReward(graphene.ObjectType):
    """A reward as a member sees it in the catalog."""

    id = graphene.ID(required=True, description="A Reward id (buyReward takes it).")
    kind = graphene.Field(RewardKind, required=True)
    name = graphene.String(required=True, description="In the member's language.")
    name_en = graphene.String(required=True)
    name_fa = graphene.String(required=True)
    description = graphene.String(required=True)
    image_url = graphene.String()
    price_points = graphene.Int(required=True)
    partner_code = graphene.String(required=True, description="The partner that honours it.")
    partner_name = graphene.String(required=True)
    sold_out = graphene.Boolean(required=True)
    affordable = graphene.Boolean(required=True, description="Within the spendable points.")
    bought = graphene.Int(required=True, description="How many of it the member has.")
    limit_reached = graphene.Boolean(required=True)
    valid_until = graphene.DateTime(description="On sale until; null: no end.")
    coupon_days = graphene.Int(description="How many days a bought code stays usable.")

    @classmethod
    def of(cls, o: Offer, language: str, names: dict[int, parties_view.PartyName]
           ) -> CatalogReward:
        r = o.reward
        partner = names.get(r.partner_id)
        return cls(id=reward_gid(r.id), kind=r.spec.kind, name=r.name(language),
                   name_en=r.spec.name_en, name_fa=r.spec.name_fa,
                   description=r.description(language), image_url=r.spec.image_url,
                   price_points=r.spec.price_points,
                   partner_code=partner.code if partner else "",
                   partner_name=partner.display(language) if partner else "",
                   sold_out=o.sold_out, affordable=o.affordable, bought=o.bought,
                   limit_reached=o.limit_reached, valid_until=r.spec.valid_until,
                   coupon_days=r.spec.coupon_days if r.has_code else None)


class Catalog(graphene.ObjectType):
    spendable = graphene.Int(required=True)
    rewards = graphene.List(graphene.NonNull(CatalogReward), required=True)


class MemberReward(graphene.ObjectType):
    """A reward the member bought, with its code (as text and as a QR) and status."""

    id = graphene.ID(required=True)
    reward = graphene.Field(CatalogReward, description="Null when no longer in the catalog.")
    reward_id = graphene.ID(required=True)
    name = graphene.String(required=True)
    points = graphene.Int(required=True)
    status = graphene.Field(CouponStatus, required=True)
    code = graphene.String(description="Null for rewards without a code.")
    code_qr_svg = graphene.String(description="The code as a QR (inline SVG) for the till.")
    bought_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime()
    used_at = graphene.DateTime()

    @classmethod
    def of(cls, p: Purchase, name: str) -> MemberReward:
        return cls(id=to_global_id("MemberReward", str(p.id)), reward_id=reward_gid(p.reward_id),
                   name=name, points=p.points, status=p.status, code=p.code,
                   code_qr_svg=card_svg(p.code, "Coupon code") if p.code else None,
                   bought_at=p.bought_at, expires_at=p.expires_at, used_at=p.used_at)


def _language(ctx: RequestContext, member_locale: str | None) -> str:
    return "fa" if member_locale == "fa" else "en"


def catalog(ctx: RequestContext, member_id: int, locale: str | None, partner: str | None,
            affordable: bool) -> Catalog:
    def read(conn: Any) -> Catalog:
        partner_id = None
        if partner:
            partner_id = parties.by_code(conn, partner)
            if partner_id is None:
                return Catalog(spendable=0, rewards=[])
        found, spendable = rewards_catalog.offers(conn, member_id, ctx.now,
                                                  partner_id=partner_id,
                                                  affordable_only=affordable)
        names = parties_view.load(conn, {o.reward.partner_id for o in found})
        language = _language(ctx, locale)
        return Catalog(spendable=spendable,
                       rewards=[CatalogReward.of(o, language, names) for o in found])

    return ctx.db.read(read)


def my_rewards(ctx: RequestContext, member_id: int, locale: str | None) -> list[MemberReward]:
    language = _language(ctx, locale)

    def read(conn: Any) -> list[MemberReward]:
        bought = rewards_buy.member_purchases(conn, member_id)
        names = {rid: get(conn, rid) for rid in {p.reward_id for p in bought}}
        return [MemberReward.of(p, names[p.reward_id].name(language)  # type: ignore[union-attr]
                                if names.get(p.reward_id) else "") for p in bought]

    return ctx.db.read(read)


class BuyRewardInput(graphene.InputObjectType):
    reward_id = graphene.ID(required=True, description="A Reward id from `me { catalog }`.")
    idempotency_key = graphene.String(required=True, description="Repeat it to retry safely.")


BUY_REWARD_ERRORS = UserErrors(
    "BuyReward", RewardError.only("REWARD_NOT_FOUND", "REWARD_NOT_AVAILABLE", "OUT_OF_STOCK",
                                  "CODES_EXHAUSTED", "MEMBER_LIMIT_REACHED"),
    InsufficientPoints, IdempotencyKeyMissing, IdempotencyKeyInvalid, IdempotencyKeyReused)


class BuyRewardPayload(graphene.ObjectType):
    reward = graphene.Field(MemberReward, description="What was bought; null when refused.")
    user_errors = BUY_REWARD_ERRORS.field()


class BuyReward(HubMutation):
    """Buy a reward with points: the points, the stock and a code, all at once or not at all."""

    class Arguments:
        input = BuyRewardInput(required=True)

    errors = BUY_REWARD_ERRORS
    Output = BuyRewardPayload
    renamed = {"points": "rewardId"}

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> BuyRewardPayload:
        return cls.buy(info.context, input)

    @classmethod
    def answer(cls, ctx: RequestContext, input: Any) -> Any:
        """What `mutate` returns, for a request known to select this one field and nothing
        else (the documented BuyReward on infra/persisted_operations.py's lean path)."""
        return cls.carry_out(lambda: cls.buy(ctx, input), None, input)

    @classmethod
    def buy(cls, ctx: RequestContext, input: Any) -> BuyRewardPayload:
        member_id = ctx.member().member_id
        reward_id = decode_reward_id(input.get("reward_id"))
        bought, name = rewards_buy.buy_named(
            ctx.db, member_id=member_id, reward_id=reward_id,
            idempotency_key=input.get("idempotency_key") or "",
            secret=ctx.settings.secret_key, now=ctx.now,
            thread_connection=True)  # GraphQL threads hold a connection each
        return BuyRewardPayload(reward=MemberReward.of(bought, name), user_errors=[])

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: Any, error: HubError) -> dict[str, Any]:
        return {"reward": None}
