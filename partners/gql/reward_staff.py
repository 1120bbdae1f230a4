"""Network staff (role `operator`) manage any partner's rewards over GraphQL, as with `pointsnet
rewards`: `catalogRewards` lists them, staffCreateReward publishes one for a partner (a draft),
staffUpdateReward and staffSetRewardStatus change one. The same use cases and validation as the
partners' own mutations and the CLI (network/programme/rewards_store.py), the same input fields
(partners/gql/rewards.py), and every problem of a refused definition its own userError. Each
write is idempotent by the input's `idempotencyKey` (staff requests carry no header for it)."""

from __future__ import annotations

from typing import Any

import graphene

from network import parties
from network.gql.context import RequestContext
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation
from network.gql.pagination import decode_cursor, encode_cursor, page_size, split_page
from network.gql.rewards import decode_reward_id
from network.ledger.errors import IdempotencyKeyInvalid, IdempotencyKeyReused, PartyNotFound
from network.programme import rewards_store
from network.programme.rewards import RewardError, RewardRefused
from partners.gql import rewards as partner_rewards
from partners.gql.mutation_support import every_problem
from partners.gql.rewards import (
    PartnerReward,
    PartnerRewardConnection,
    PartnerRewardEdge,
    RewardStatus,
    picture_of,
    spec_of,
)

ROLE = "operator"
_KEY = graphene.String(required=True, description="Your idempotency key for this write (a "
                                                  "retry with the same key answers the same).")


def _operator(info: graphene.ResolveInfo) -> tuple[RequestContext, str]:
    ctx: RequestContext = info.context
    return ctx, ctx.staff(ROLE).scope


def catalog_page(ctx: RequestContext, first: int | None, after: str | None,
                 partner_code: str | None, statuses: list[Any] | None
                 ) -> PartnerRewardConnection:
    ctx.staff(ROLE)
    partner_id = None
    if partner_code is not None:
        partner_id = ctx.db.read(parties.by_code, partner_code)
        if partner_id is None:
            return PartnerRewardConnection(edges=[], page_info=graphene.relay.PageInfo(
                has_next_page=False, has_previous_page=False))
    size = page_size(first)
    cursor = decode_cursor(after, "reward")
    found = ctx.db.read(rewards_store.list_rewards, partner_id=partner_id,
                        statuses=[getattr(s, "value", s) for s in statuses or ()],
                        after_id=cursor or 0, limit=size + 1, sold=True)
    page, has_next = split_page(found, size)
    edges = [PartnerRewardEdge(node=partner_rewards.shown(ctx.db, r),
                               cursor=encode_cursor("reward", r.id)) for r in page]
    return PartnerRewardConnection(edges=edges, page_info=graphene.relay.PageInfo(
        has_next_page=has_next, has_previous_page=cursor is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None))


class Query(graphene.ObjectType):
    catalog_rewards = graphene.Field(
        PartnerRewardConnection, required=True, first=graphene.Int(), after=graphene.String(),
        partner_code=graphene.String(description="Only the rewards this partner honours."),
        statuses=graphene.List(graphene.NonNull(RewardStatus)),
        description="Every partner's rewards, oldest first (staff: operator).")

    @staticmethod
    def resolve_catalog_rewards(root: object, info: graphene.ResolveInfo,
                                first: int | None = None, after: str | None = None,
                                partner_code: str | None = None,
                                statuses: list[Any] | None = None) -> PartnerRewardConnection:
        return catalog_page(info.context, first, after, partner_code, statuses)


StaffCreateRewardInput = type("StaffCreateRewardInput", (partner_rewards.CreateRewardInput,), {
    "__doc__": "A new reward the partner honours; it starts as a draft.",
    "partner_code": graphene.String(required=True, description="The partner that honours it."),
    "idempotency_key": _KEY,
})
StaffUpdateRewardInput = type("StaffUpdateRewardInput", (partner_rewards.UpdateRewardInput,), {
    "__doc__": "The fields to change; those omitted stay as they are.",
    "idempotency_key": _KEY,
})


class StaffSetRewardStatusInput(partner_rewards.SetRewardStatusInput):
    idempotency_key = _KEY


_KEYS = (IdempotencyKeyInvalid, IdempotencyKeyReused)


class _StaffRewardMutation(HubMutation):
    class Meta:
        abstract = True

    reward = graphene.Field(PartnerReward, description="As saved; null when refused.")

    @classmethod
    def mutate(cls, root: object, info: graphene.ResolveInfo, input: Any) -> Any:
        return every_problem(cls, info, input)


class StaffCreateReward(_StaffRewardMutation):
    """Publish a reward a partner honours, as a draft."""

    class Arguments:
        input = StaffCreateRewardInput(required=True)

    errors = UserErrors("StaffCreateReward", RewardRefused, PartyNotFound, *_KEYS)
    user_errors = errors.field()

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> StaffCreateReward:
        ctx, scope = _operator(info)
        partner = ctx.db.read(lambda c: parties.get(c, parties.by_code(c, input.partner_code)
                                                    or 0, "partner"))
        if partner is None:
            raise PartyNotFound(f"no partner with code {input.partner_code!r}",
                                field="partnerCode")
        spec = spec_of(partner_rewards.spec_changes(ctx.db, input))
        saved = rewards_store.create(ctx.db, partner_id=partner.id, spec=spec, scope=scope,
                                     idempotency_key=input.idempotency_key, now=ctx.now,
                                     picture=picture_of(input))
        return cls(reward=partner_rewards.shown(ctx.db, saved), user_errors=[])


class StaffUpdateReward(_StaffRewardMutation):
    """Change some fields of any partner's reward (never its kind)."""

    class Arguments:
        input = StaffUpdateRewardInput(required=True)

    errors = UserErrors("StaffUpdateReward", RewardRefused,
                        RewardError.only("REWARD_NOT_FOUND", "CODE_SOURCE_FIXED"), *_KEYS)
    user_errors = errors.field()

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> StaffUpdateReward:
        ctx, scope = _operator(info)
        changes = partner_rewards.spec_changes(ctx.db, input)
        changes.pop("kind", None)
        saved = rewards_store.update_reward(
            ctx.db, partner_id=None, reward_id=decode_reward_id(input.get("reward_id")),
            changes=changes, scope=scope, idempotency_key=input.idempotency_key, now=ctx.now,
            picture=picture_of(input))
        return cls(reward=partner_rewards.shown(ctx.db, saved), user_errors=[])


class StaffSetRewardStatus(_StaffRewardMutation):
    """Put any partner's reward on sale, pause it, or retire it for good."""

    class Arguments:
        input = StaffSetRewardStatusInput(required=True)

    errors = UserErrors("StaffSetRewardStatus",
                        RewardError.only("REWARD_NOT_FOUND", "STATUS_CHANGE_NOT_ALLOWED"), *_KEYS)
    user_errors = errors.field()

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> StaffSetRewardStatus:
        ctx, scope = _operator(info)
        saved = rewards_store.set_status(
            ctx.db, partner_id=None, reward_id=decode_reward_id(input.get("reward_id")),
            status=getattr(input.status, "value", input.status), scope=scope,
            idempotency_key=input.idempotency_key, now=ctx.now)
        return cls(reward=partner_rewards.shown(ctx.db, saved), user_errors=[])


class Mutation(graphene.ObjectType):
    staff_create_reward = StaffCreateReward.Field(
        description="Publish a reward for a partner, as a draft (staff: operator).")
    staff_update_reward = StaffUpdateReward.Field(
        description="Change a partner's reward (staff: operator).")
    staff_set_reward_status = StaffSetRewardStatus.Field(
        description="Put a partner's reward on sale, pause or retire it (staff: operator).")
