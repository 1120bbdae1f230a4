"""Refunds: reverseEarn takes back points a purchase earned, reverseRedemption gives back points
a purchase was paid with; fully, or partly with `points`. Only your own transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import graphene

from network import ledger
from network.ledger.errors import (
    AlreadyReversed,
    AmountTooLarge,
    EntryNotFound,
    InvalidAmount,
    InvalidId,
    InvalidInput,
    Required,
    ReversalExceedsOriginal,
)
from network.ledger.receipts import Receipt
from partners.gql.mutation_support import SENT_AS, Call, PartnerMutation, partner_errors
from partners.gql.payloads import TransactionPayload, transaction_from_receipt, transaction_payload
from partners.gql.refs import decode_id
from partners.scopes import EARN, REDEEM


class ReverseInput(graphene.InputObjectType):
    transaction_id = graphene.ID(required=True,
                                 description="The PartnerTransaction to reverse: an EARN for "
                                             "reverseEarn; a REDEEM or CAPTURE for "
                                             "reverseRedemption.")
    points = graphene.Int(description="Reverse part of it (1 to what is left to reverse); "
                                      "everything left when omitted.")
    reference = graphene.String(description="Your refund reference, at most 200 characters.")


# What a reversal may be refused for: the transaction id, what is left of it, the input.
REVERSAL = (Required, InvalidId, EntryNotFound, AlreadyReversed, ReversalExceedsOriginal,
            InvalidAmount, AmountTooLarge, InvalidInput)


class ReverseEarnInput(ReverseInput):
    pass


class ReverseRedemptionInput(ReverseInput):
    pass


class _Reversal(PartnerMutation):
    """Both reversals: the ledger operation differs, and so do the scope and the codes' type."""

    class Meta:
        abstract = True

    renamed = {**SENT_AS, "entryId": "transactionId"}
    operation: ClassVar[Callable[..., Receipt]]

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> TransactionPayload:
        entry_id = decode_id(input["transaction_id"], "PartnerTransaction", "transactionId")
        receipt = cls.operation(
            call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
            partner_id=call.partner.party_id, entry_id=entry_id, points=input.get("points"),
            reference=input.get("reference"), now=call.ctx.now)
        return cls._meta.output.of(receipt, transaction_from_receipt(
            receipt, reference=input.get("reference"), reverses=entry_id))


class ReverseEarn(_Reversal):
    class Arguments:
        input = ReverseEarnInput(required=True)

    errors = partner_errors("ReverseEarn", *REVERSAL)
    Output = transaction_payload(errors)
    scope = EARN
    operation = staticmethod(ledger.reverse_earn)


class ReverseRedemption(_Reversal):
    class Arguments:
        input = ReverseRedemptionInput(required=True)

    errors = partner_errors("ReverseRedemption", *REVERSAL)
    Output = transaction_payload(errors)
    scope = REDEEM
    operation = staticmethod(ledger.reverse_redemption)
