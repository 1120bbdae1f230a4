"""Network staff (role `operator`) run lottery draws over GraphQL as with `pointsnet lottery`:
openLottery, closeLottery, drawLottery. Each answers the draw's public state."""

from __future__ import annotations

from typing import Any

import graphene

from network import parties
from network.clock import as_utc
from network.gql.context import RequestContext
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation
from network.ledger.errors import PartyNotFound
from network.programme import lottery_store as store
from network.programme.lottery_store import LotteryError
from network.wallet.errors import WalletError

ROLE = "operator"


def _operator(info: graphene.ResolveInfo) -> RequestContext:
    ctx: RequestContext = info.context
    ctx.staff(ROLE)
    return ctx


class StaffLottery(graphene.ObjectType):
    """A draw's public state: what `pointsnet lottery publish` writes, counted."""

    code = graphene.String(required=True)
    status = graphene.String(required=True, description="open, closed or drawn.")
    commitment = graphene.String(required=True, description="sha256 of the seed: publish it.")
    entries = graphene.Int(description="How many entries, once closed.")
    seed = graphene.String(description="The seed (hex), once drawn.")
    winners = graphene.List(graphene.NonNull(graphene.String),
                            description="Winning entry hashes in prize order, once drawn.")

    @classmethod
    def load(cls, ctx: RequestContext, code: str) -> StaffLottery:
        published = ctx.db.read(store.published, code)
        status = ("drawn" if published.seed else "closed" if published.entries is not None
                  else "open")
        return cls(code=code, status=status, commitment=published.commitment,
                   entries=len(published.entries) if published.entries is not None else None,
                   seed=published.seed.hex() if published.seed else None,
                   winners=list(published.winners) if published.winners is not None else None)


class LotteryPrizeInput(graphene.InputObjectType):
    count = graphene.Int(required=True)
    label = graphene.String(required=True)
    label_fa = graphene.String(required=True)
    reward_id = graphene.ID(description="A catalog reward the prize is, if any.")


class OpenLotteryInput(graphene.InputObjectType):
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    name_fa = graphene.String(required=True)
    sponsor_code = graphene.String(required=True, description="The partner funding the draw.")
    opens_at = graphene.DateTime(description="Default: now.")
    closes_at = graphene.DateTime(required=True)
    entry_price = graphene.Int(required=True, description="Points; 0: entries only given.")
    max_entries_per_member = graphene.Int(default_value=1)
    prizes = graphene.List(graphene.NonNull(LotteryPrizeInput), required=True,
                           description="First prize first.")


OPEN_ERRORS = UserErrors("OpenLottery", LotteryError.only("INVALID_DRAW", "DRAW_EXISTS"),
                         PartyNotFound, WalletError.only("INVALID_ID"))


class OpenLotteryPayload(graphene.ObjectType):
    lottery = graphene.Field(StaffLottery)
    user_errors = OPEN_ERRORS.field()


class OpenLottery(HubMutation):
    class Arguments:
        input = OpenLotteryInput(required=True)

    errors = OPEN_ERRORS
    Output = OpenLotteryPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> OpenLotteryPayload:
        ctx = _operator(info)
        sponsor = ctx.db.read(parties.by_code, input["sponsor_code"])
        if sponsor is None:
            raise PartyNotFound(f"no partner with code {input['sponsor_code']!r}",
                                field="sponsorCode")
        prizes = []
        for index, prize in enumerate(input["prizes"]):
            reward = prize.get("reward_id")
            if reward is not None and not (str(reward).isascii() and str(reward).isdigit()):
                raise WalletError("INVALID_ID", "a reward id is a number",
                                  field=f"prizes.{index}.rewardId")
            prizes.append(store.Prize(prize["count"], prize["label"], prize["label_fa"],
                                      int(reward) if reward is not None else None))
        store.open_draw(ctx.db, code=input["code"], name_en=input["name"],
                        name_fa=input["name_fa"],
                        opens_at=as_utc(input.get("opens_at") or ctx.now),
                        closes_at=as_utc(input["closes_at"]), entry_price=input["entry_price"],
                        max_entries_per_member=input.get("max_entries_per_member") or 1,
                        sponsor_party_id=sponsor, prizes=prizes, now=ctx.now)
        return OpenLotteryPayload(lottery=StaffLottery.load(ctx, input["code"]), user_errors=[])


class LotteryCodeInput(graphene.InputObjectType):
    code = graphene.String(required=True)


CLOSE_ERRORS = UserErrors("CloseLottery", LotteryError.only("DRAW_NOT_FOUND", "DRAW_STILL_OPEN"))
DRAW_ERRORS = UserErrors("DrawLottery", LotteryError.only("DRAW_NOT_FOUND", "DRAW_NOT_CLOSED"))


class CloseLotteryPayload(graphene.ObjectType):
    lottery = graphene.Field(StaffLottery)
    user_errors = CLOSE_ERRORS.field()


class DrawLotteryPayload(graphene.ObjectType):
    lottery = graphene.Field(StaffLottery)
    user_errors = DRAW_ERRORS.field()


class CloseLottery(HubMutation):
    class Arguments:
        input = LotteryCodeInput(required=True)

    errors = CLOSE_ERRORS
    Output = CloseLotteryPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> CloseLotteryPayload:
        ctx = _operator(info)
        store.close(ctx.db, input["code"], now=ctx.now)
        return CloseLotteryPayload(lottery=StaffLottery.load(ctx, input["code"]), user_errors=[])


class DrawLottery(HubMutation):
    class Arguments:
        input = LotteryCodeInput(required=True)

    errors = DRAW_ERRORS
    Output = DrawLotteryPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: Any) -> DrawLotteryPayload:
        ctx = _operator(info)
        store.draw_winners(ctx.db, input["code"], secret=ctx.settings.secret_key, now=ctx.now)
        return DrawLotteryPayload(lottery=StaffLottery.load(ctx, input["code"]), user_errors=[])


class Mutation(graphene.ObjectType):
    open_lottery = OpenLottery.Field(description="Open a lottery draw; publish its commitment "
                                                 "(staff: operator).")
    close_lottery = CloseLottery.Field(description="Freeze a draw's entries after its window "
                                                   "(staff: operator).")
    draw_lottery = DrawLottery.Field(description="Reveal a closed draw's seed and mark its "
                                                 "winners (staff: operator).")
