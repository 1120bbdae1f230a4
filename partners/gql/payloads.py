"""Payload pieces shared by the partner mutations: a transaction built from the ledger's receipt
(no extra read), and a member resolved only when the caller selects it."""

from __future__ import annotations

import functools
from datetime import datetime

import graphene
from graphene import relay

from network.gql.context import RequestContext
from network.gql.errors import UserErrors
from network.ledger.receipts import Receipt
from partners.gql.types import PartnerHold, PartnerMember, PartnerTransaction

# A batch's receipts share their booking time: each distinct one parsed once.
_booked_at = functools.lru_cache(maxsize=64)(datetime.fromisoformat)


def transaction_from_receipt(receipt: Receipt, *, reference: str | None = None,
                             reverses: int | None = None, amount: int | None = None,
                             currency: str | None = None) -> PartnerTransaction:
    transaction = PartnerTransaction(
        id=receipt.entry_id, kind=receipt.kind, points=receipt.points, reference=reference,
        booked_at=_booked_at(receipt.booked_at),
        member_id=relay.Node.to_global_id("PartnerMember", receipt.member_id),
        reverses=relay.Node.to_global_id("PartnerTransaction", reverses) if reverses else None,
        hold_id=relay.Node.to_global_id("PartnerHold", receipt.hold_id) if receipt.hold_id
        else None,
        purchase_amount=amount, purchase_currency=currency,
    )
    # The receipt says why (its stored breakdown, a replay's too): no read of campaign_awards.
    transaction._breakdown = receipt.breakdown  # type: ignore[attr-defined]
    return transaction


class TransactionPayload(graphene.ObjectType):
    """What a points-moving mutation answers; each has its own subclass, `<Mutation>Payload`,
    whose userErrors carry that mutation's error codes (`transaction_payload`)."""

    transaction = graphene.Field(PartnerTransaction,
                                 description="The entry booked; null when refused. A replay "
                                             "answers the first one again.")
    balance_after = graphene.Int(description="The member's points after this transaction "
                                             "(spendable + pending - debt, outside holds); "
                                             "null when refused.")
    member = graphene.Field(PartnerMember, description="The member, read as they are now.")
    hold = graphene.Field(PartnerHold, description="For authorizeHold, captureHold and voidHold: "
                                                   "the hold, read as it is now.")

    def resolve_member(self, info: graphene.ResolveInfo) -> PartnerMember | None:
        member_id = getattr(self, "_member_id", None)
        if member_id is None:
            return None
        ctx: RequestContext = info.context
        return ctx.db.read(lambda conn: PartnerMember.load(conn, ctx, member_id))

    def resolve_hold(self, info: graphene.ResolveInfo) -> PartnerHold | None:
        hold_id = getattr(self, "_hold_id", None)
        if hold_id is None:
            return None
        ctx: RequestContext = info.context
        return ctx.db.read(PartnerHold.load, ctx.partner().party_id, hold_id,
                           getattr(self, "_member_id", None))

    @classmethod
    def of(cls, receipt: Receipt, transaction: PartnerTransaction) -> TransactionPayload:
        payload = cls(transaction=transaction, balance_after=receipt.balance, user_errors=[])
        payload._member_id = receipt.member_id  # type: ignore[attr-defined]
        payload._hold_id = receipt.hold_id  # type: ignore[attr-defined]
        return payload


def transaction_payload(errors: UserErrors) -> type[TransactionPayload]:
    """`<Mutation>Payload`: a TransactionPayload whose userErrors are `errors`' type."""
    return type(f"{errors.name}Payload", (TransactionPayload,), {
        "__doc__": f"What {errors.name} answers.",
        "user_errors": errors.field("Why the mutation was refused (nothing was written); empty "
                                    "on success."),
    })
