"""Refunds: reverseEarn takes back points a purchase earned, reverseRedemption gives back points
a purchase was paid with; fully, or partly with `points`. Only your own transactions."""

from __future__ import annotations

from typing import Any

import graphene

from network import ledger
from partners.gql.mutation_support import Call, guarded
from partners.gql.payloads import TransactionPayload, transaction_from_receipt
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


def _reverse(operation: Any, scope: str, info: graphene.ResolveInfo,
             input: dict[str, Any]) -> TransactionPayload:
    def work(call: Call) -> TransactionPayload:
        entry_id = decode_id(input["transaction_id"], "PartnerTransaction", "transactionId")
        receipt = operation(
            call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
            partner_id=call.partner.party_id, entry_id=entry_id, points=input.get("points"),
            reference=input.get("reference"), now=call.ctx.now)
        return TransactionPayload.of(receipt, transaction_from_receipt(
            receipt, reference=input.get("reference"), reverses=entry_id))

    return guarded(TransactionPayload, info, scope, work, sent_as={"entryId": "transactionId"})


class ReverseEarnInput(ReverseInput):
    pass


class ReverseRedemptionInput(ReverseInput):
    pass


class ReverseEarn(graphene.Mutation):
    class Arguments:
        input = ReverseEarnInput(required=True)

    Output = TransactionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> TransactionPayload:
        return _reverse(ledger.reverse_earn, EARN, info, input)


class ReverseRedemption(graphene.Mutation):
    class Arguments:
        input = ReverseRedemptionInput(required=True)

    Output = TransactionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> TransactionPayload:
        return _reverse(ledger.reverse_redemption, REDEEM, info, input)
