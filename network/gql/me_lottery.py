"""The member's lotteries and gifts over GraphQL: `me { lotteries gifts }`, `enterLottery`,
`sendPoints`, `acceptGift`, `declineGift`.

A draw shows what is public (its commitment from the start; its seed and winners once drawn)
and, of the entries, only the calling member's own hashes, so a member can find them in the
published entries.txt and winners.txt.
"""

from __future__ import annotations

from typing import Any

import graphene
from graphql_relay import to_global_id

from network.gql.errors import UserErrors
from network.gql.me_actions import decode
from network.gql.me_types import Wallet, WalletData, ctx_of, member_part, own
from network.gql.mutation import HubMutation
from network.ledger.errors import (
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    InsufficientPoints,
)
from network.notifications.inline import kick
from network.programme import lottery_store
from network.programme.lottery_store import LotteryError
from network.wallet import donations, gifts
from network.wallet.errors import WalletError


class LotteryStatus(graphene.Enum):
    OPEN = "open"
    CLOSED = "closed"
    DRAWN = "drawn"


class LotteryPrize(graphene.ObjectType):
    position = graphene.Int(required=True, description="1 is the first prize.")
    count = graphene.Int(required=True, description="How many winners get it.")
    label = graphene.String(required=True)
    label_fa = graphene.String(required=True)
    reward_id = graphene.ID(description="The catalog reward the prize is, if it is one.")


class MemberLottery(graphene.ObjectType):
    """A lottery draw as a member sees it: public facts and their own entries."""

    id = graphene.ID(required=True, description="A LotteryDraw id (enterLottery's drawId).")
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    name_fa = graphene.String(required=True)
    status = graphene.Field(LotteryStatus, required=True)
    opens_at = graphene.DateTime(required=True)
    closes_at = graphene.DateTime(required=True)
    entry_price = graphene.Int(required=True, description="Points per entry; 0: entries are "
                                                          "only given.")
    max_entries_per_member = graphene.Int(required=True)
    prizes = graphene.List(graphene.NonNull(LotteryPrize), required=True)
    commitment = graphene.String(required=True, description="sha256 of the secret seed, "
                                                            "public since the draw opened.")
    seed = graphene.String(description="The seed (hex), once drawn; null before.")
    my_entries = graphene.Int(required=True, description="How many entries the member holds.")
    my_entry_hashes = graphene.List(graphene.NonNull(graphene.String), required=True,
                                    description="The member's entries as published.")
    winners = graphene.List(graphene.NonNull(graphene.String),
                            description="Winning entry hashes in prize order, once drawn.")
    my_winning_positions = graphene.List(graphene.NonNull(graphene.Int), required=True,
                                         description="Positions the member won (1-based).")

    @classmethod
    def of(cls, draw: lottery_store.Draw, entries: list[lottery_store.Entry],
           winners: list[str] | None) -> MemberLottery:
        prizes, position = [], 1
        for prize in draw.prizes:
            prizes.append(LotteryPrize(position=position, count=prize.count, label=prize.label_en,
                                       label_fa=prize.label_fa, reward_id=prize.reward_id))
            position += prize.count
        return cls(
            id=to_global_id("LotteryDraw", str(draw.id)), code=draw.code, name=draw.name_en,
            name_fa=draw.name_fa, status=draw.status, opens_at=draw.opens_at,
            closes_at=draw.closes_at, entry_price=draw.entry_price,
            max_entries_per_member=draw.max_entries_per_member, prizes=prizes,
            commitment=draw.commitment, seed=draw.seed.hex() if draw.seed else None,
            my_entries=len(entries), my_entry_hashes=[e.entry_hash for e in entries],
            winners=winners,
            my_winning_positions=sorted(e.won_position for e in entries if e.won_position))


def lotteries_of(ctx: Any, member_id: int) -> list[MemberLottery]:
    def read(conn: Any) -> list[MemberLottery]:
        found = []
        for draw in lottery_store.listed(conn):
            entries = lottery_store.entries_of(conn, member_id, draw.id)
            winners = lottery_store.winners_of(conn, draw.id) if draw.status == "drawn" else None
            found.append(MemberLottery.of(draw, entries, winners))
        return found

    return ctx.db.read(read)


class GiftStatus(graphene.Enum):
    SENT = "sent"
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class GiftDirection(graphene.Enum):
    SENT = "sent"
    RECEIVED = "received"


class MemberGift(graphene.ObjectType):
    id = graphene.ID(required=True, description="A Gift id (acceptGift's giftId).")
    direction = graphene.Field(GiftDirection, required=True)
    points = graphene.Int(required=True)
    status = graphene.Field(GiftStatus, required=True, description="PENDING waits for the "
                            "receiver; EXPIRED and DECLINED went back to the sender's lots.")
    created_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime(description="When a pending gift goes back to its sender.")
    counterpart_card = graphene.String(required=True, description="The other member's card, "
                                                                  "all but its last 4 digits "
                                                                  "hidden.")

    @classmethod
    def of(cls, member_id: int, gift: gifts.Gift) -> MemberGift:
        card = gift.other_card
        return cls(id=to_global_id("Gift", str(gift.id)),
                   direction="sent" if gift.sender_member_id == member_id else "received",
                   points=gift.points, status=gift.status, created_at=gift.created_at,
                   expires_at=gift.expires_at,
                   counterpart_card=("•••• " + card[-4:]) if card else "")


def gifts_of(ctx: Any, member_id: int) -> list[MemberGift]:
    found = ctx.db.read(gifts.of_member, member_id, ctx.now)
    return [MemberGift.of(member_id, g) for g in found]


# --- Entering a lottery -------------------------------------------------------------------------


class EnterLotteryInput(graphene.InputObjectType):
    draw_id = graphene.ID(required=True, description="A LotteryDraw id (see me.lotteries).")
    idempotency_key = graphene.String(required=True, description="Repeat it to retry safely.")


ENTER_LOTTERY_ERRORS = UserErrors(
    "EnterLottery", WalletError.only("INVALID_ID"),
    LotteryError.only("DRAW_NOT_FOUND", "DRAW_NOT_OPEN", "ENTRY_LIMIT_REACHED",
                      "ENTRY_BY_GRANT_ONLY"),
    InsufficientPoints, IdempotencyKeyMissing, IdempotencyKeyInvalid, IdempotencyKeyReused)


class EnterLotteryPayload(graphene.ObjectType):
    entry_hash = graphene.String(description="The new entry as it will be published.")
    lottery = graphene.Field(MemberLottery)
    wallet = graphene.Field(Wallet)
    user_errors = ENTER_LOTTERY_ERRORS.field()


class EnterLottery(HubMutation):
    class Arguments:
        input = EnterLotteryInput(required=True)

    errors = ENTER_LOTTERY_ERRORS
    Output = EnterLotteryPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> EnterLotteryPayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        draw_id = decode(input.get("draw_id"), "LotteryDraw", "drawId")
        entered = lottery_store.enter(ctx.db, member_id=member_id, draw_id=draw_id,
                                      idempotency_key=input.get("idempotency_key") or "",
                                      now=ctx.now)
        found = [d for d in lotteries_of(ctx, member_id)
                 if d.id == to_global_id("LotteryDraw", str(draw_id))]
        return EnterLotteryPayload(entry_hash=entered.entry_hash,
                                   lottery=found[0] if found else None,
                                   wallet=WalletData.load(ctx, member_id), user_errors=[])


# --- Gifts ------------------------------------------------------------------------------------


class SendPointsInput(graphene.InputObjectType):
    card_number = graphene.String(description="The receiver's card number (or give phone).")
    phone = graphene.String(description="The receiver's phone, with its country code or as "
                                        "dialled in the network's country.")
    points = graphene.Int(required=True)
    idempotency_key = graphene.String(required=True, description="Repeat it to retry safely.")


SEND_POINTS_ERRORS = UserErrors(
    "SendPoints", WalletError.only("INVALID_AMOUNT", "AMOUNT_TOO_LARGE"),
    gifts.GiftError.only("GIFTS_DISABLED", "RECEIVER_REQUIRED", "RECEIVER_NOT_FOUND",
                         "SELF_GIFT", "RECEIVER_BLOCKED", "GIFT_LIMIT_EXCEEDED",
                         "INVALID_CARD_NUMBER", "INVALID_PHONE"),
    InsufficientPoints, IdempotencyKeyMissing, IdempotencyKeyInvalid, IdempotencyKeyReused)


class SendPointsPayload(graphene.ObjectType):
    gift = graphene.Field(MemberGift)
    wallet = graphene.Field(Wallet)
    user_errors = SEND_POINTS_ERRORS.field()


class SendPoints(HubMutation):
    class Arguments:
        input = SendPointsInput(required=True)

    errors = SEND_POINTS_ERRORS
    Output = SendPointsPayload

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> SendPointsPayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        points = donations.parse_points(input.get("points"))
        gift = gifts.send(ctx.db, gifts.GiftRules.of(ctx.settings), sender_id=member_id,
                          points=points, idempotency_key=input.get("idempotency_key") or "",
                          card_number=input.get("card_number"), phone=input.get("phone"),
                          now=ctx.now)
        kick(ctx.db)  # the receiver's note goes out now, not at the next worker run
        shown = next((g for g in gifts_of(ctx, member_id)
                      if g.id == to_global_id("Gift", str(gift.id))), None)
        return SendPointsPayload(gift=shown, wallet=WalletData.load(ctx, member_id),
                                 user_errors=[])


class AnswerGiftInput(graphene.InputObjectType):
    gift_id = graphene.ID(required=True, description="A Gift id sent to the member.")
    block_sender = graphene.Boolean(default_value=False,
                                    description="declineGift only: refuse this sender's gifts "
                                                "from now on.")


ANSWER_GIFT_ERRORS = UserErrors(
    "AnswerGift", WalletError.only("INVALID_ID"),
    gifts.GiftError.only("GIFT_NOT_FOUND", "GIFT_NOT_PENDING", "GIFT_EXPIRED"))


class AnswerGiftPayload(graphene.ObjectType):
    gift = graphene.Field(MemberGift)
    wallet = graphene.Field(Wallet)
    user_errors = ANSWER_GIFT_ERRORS.field()


class _AnswerGift(HubMutation):
    class Meta:
        abstract = True

    accept: bool = True
    errors = ANSWER_GIFT_ERRORS

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, input: dict[str, Any]) -> AnswerGiftPayload:
        ctx = ctx_of(info)
        member_id = ctx.member().member_id
        gift_id = decode(input.get("gift_id"), "Gift", "giftId")
        if cls.accept:
            gift = gifts.accept(ctx.db, receiver_id=member_id, gift_id=gift_id, now=ctx.now)
        else:
            gift = gifts.decline(ctx.db, receiver_id=member_id, gift_id=gift_id,
                                 block=bool(input.get("block_sender")), now=ctx.now)
        shown = next((g for g in gifts_of(ctx, member_id)
                      if g.id == to_global_id("Gift", str(gift.id))), None)
        return AnswerGiftPayload(gift=shown, wallet=WalletData.load(ctx, member_id),
                                 user_errors=[])


class AcceptGift(_AnswerGift):
    class Arguments:
        input = AnswerGiftInput(required=True)

    accept = True
    Output = AnswerGiftPayload


class DeclineGift(_AnswerGift):
    class Arguments:
        input = AnswerGiftInput(required=True)

    accept = False
    Output = AnswerGiftPayload


@member_part("lotteries")
def resolve_lotteries(info: graphene.ResolveInfo, member_id: int) -> list[MemberLottery]:
    return lotteries_of(own(info, member_id), member_id)


@member_part("gifts")
def resolve_gifts(info: graphene.ResolveInfo, member_id: int) -> list[MemberGift]:
    return gifts_of(own(info, member_id), member_id)

