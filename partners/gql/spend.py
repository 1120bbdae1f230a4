"""Taking points as payment: redeemPoints at once, or authorizeHold then captureHold/voidHold,
like a card payment."""

from __future__ import annotations

from typing import Any

import graphene

from network import ledger
from partners.gql.app_caches import app_caches
from partners.gql.mutation_support import Call, guarded
from partners.gql.payloads import TransactionPayload, transaction_from_receipt
from partners.gql.refs import decode_id, resolve_member
from partners.scopes import REDEEM


def _member(call: Call, data: dict[str, Any]) -> int:
    return resolve_member(call.ctx.db, data, app_caches(call.ctx))


class RedeemPointsInput(graphene.InputObjectType):
    member_id = graphene.ID(description="The member's PartnerMember id (or give cardNumber).")
    card_number = graphene.String()
    points = graphene.Int(required=True)
    reference = graphene.String()


class RedeemPoints(graphene.Mutation):
    class Arguments:
        input = RedeemPointsInput(required=True)

    Output = TransactionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> TransactionPayload:
        def work(call: Call) -> TransactionPayload:
            member_id = _member(call, input)
            receipt = ledger.redeem(
                call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
                partner_id=call.partner.party_id, member_id=member_id, points=input["points"],
                reference=input.get("reference"), now=call.ctx.now)
            return TransactionPayload.of(
                receipt, transaction_from_receipt(receipt, reference=input.get("reference")))

        return guarded(TransactionPayload, info, REDEEM, work)


class AuthorizeHoldInput(graphene.InputObjectType):
    member_id = graphene.ID()
    card_number = graphene.String()
    points = graphene.Int(required=True)
    expires_at = graphene.DateTime(description="Default 7 days, at most 31 days ahead.")
    reference = graphene.String()


class AuthorizeHold(graphene.Mutation):
    class Arguments:
        input = AuthorizeHoldInput(required=True)

    Output = TransactionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> TransactionPayload:
        def work(call: Call) -> TransactionPayload:
            member_id = _member(call, input)
            receipt = ledger.authorize_hold(
                call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
                partner_id=call.partner.party_id, member_id=member_id, points=input["points"],
                expires_at=input.get("expires_at"), reference=input.get("reference"),
                now=call.ctx.now)
            return TransactionPayload.of(
                receipt, transaction_from_receipt(receipt, reference=input.get("reference")))

        return guarded(TransactionPayload, info, REDEEM, work)


class CaptureHoldInput(graphene.InputObjectType):
    hold_id = graphene.ID(required=True)
    points = graphene.Int(description="Capture part of the hold; all of it when omitted. "
                                      "The rest goes back to the member.")
    reference = graphene.String()


class CaptureHold(graphene.Mutation):
    class Arguments:
        input = CaptureHoldInput(required=True)

    Output = TransactionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> TransactionPayload:
        def work(call: Call) -> TransactionPayload:
            receipt = ledger.capture_hold(
                call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
                partner_id=call.partner.party_id,
                hold_id=decode_id(input["hold_id"], "PartnerHold", "holdId"),
                points=input.get("points"), reference=input.get("reference"), now=call.ctx.now)
            return TransactionPayload.of(
                receipt, transaction_from_receipt(receipt, reference=input.get("reference")))

        return guarded(TransactionPayload, info, REDEEM, work)


class VoidHoldInput(graphene.InputObjectType):
    hold_id = graphene.ID(required=True)


class VoidHold(graphene.Mutation):
    class Arguments:
        input = VoidHoldInput(required=True)

    Output = TransactionPayload

    def mutate(root, info: graphene.ResolveInfo, input: dict[str, Any]) -> TransactionPayload:
        def work(call: Call) -> TransactionPayload:
            receipt = ledger.void_hold(
                call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
                partner_id=call.partner.party_id,
                hold_id=decode_id(input["hold_id"], "PartnerHold", "holdId"), now=call.ctx.now)
            return TransactionPayload.of(receipt, transaction_from_receipt(receipt))

        return guarded(TransactionPayload, info, REDEEM, work)
