"""Taking points as payment: redeemPoints at once, or authorizeHold then captureHold/voidHold,
like a card payment."""

from __future__ import annotations

from typing import Any

import graphene
from sqlalchemy import select

from network import ledger
from network.db.schema import journal_entries
from network.ledger.receipts import Receipt
from partners.gql.app_caches import app_caches
from partners.gql.mutation_support import Call, guarded
from partners.gql.payloads import TransactionPayload, transaction_from_receipt
from partners.gql.refs import CARD_NUMBER_DOC, MEMBER_ID_DOC, decode_id, resolve_member
from partners.scopes import REDEEM


def _member(call: Call, data: dict[str, Any]) -> int:
    return resolve_member(call.ctx.db, data, app_caches(call.ctx))


def _as_booked(call: Call, receipt: Receipt) -> TransactionPayload:
    """A capture or void with the reference the ledger stored (the hold's when none was given),
    read back so the answer says what `transactions` will; one indexed read, off the earn path."""
    reference = call.ctx.db.read(lambda conn: conn.execute(
        select(journal_entries.c.reference).where(journal_entries.c.id == receipt.entry_id)
    ).scalar_one())
    return TransactionPayload.of(receipt, transaction_from_receipt(receipt, reference=reference))


class RedeemPointsInput(graphene.InputObjectType):
    member_id = graphene.ID(description=MEMBER_ID_DOC)
    card_number = graphene.String(description=CARD_NUMBER_DOC)
    points = graphene.Int(required=True, description="Points to take, 1 to 1,000,000,000 and at "
                                                     "most the member's spendable points.")
    reference = graphene.String(description="Your receipt or order number, at most 200 "
                                            "characters.")


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
    member_id = graphene.ID(description=MEMBER_ID_DOC)
    card_number = graphene.String(description=CARD_NUMBER_DOC)
    points = graphene.Int(required=True, description="Points to reserve, 1 to 1,000,000,000 and "
                                                     "at most the member's spendable points.")
    expires_at = graphene.DateTime(description="When the hold lapses (ISO 8601 with an offset): "
                                               "later than now and at most 31 days ahead; 7 days "
                                               "from now when omitted.")
    reference = graphene.String(description="Your order reference, at most 200 characters; the "
                                            "capture (unless it gives its own) and the void are "
                                            "booked under it too.")


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
    hold_id = graphene.ID(required=True, description="The PartnerHold id authorizeHold answered.")
    points = graphene.Int(description="Capture part of the hold (1 to the hold's points); all of "
                                      "it when omitted. The rest goes back to the member.")
    reference = graphene.String(description="Booked on the capture, at most 200 characters; "
                                            "the hold's reference when omitted.")


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
            return _as_booked(call, receipt)

        return guarded(TransactionPayload, info, REDEEM, work)


class VoidHoldInput(graphene.InputObjectType):
    hold_id = graphene.ID(required=True, description="The PartnerHold id authorizeHold answered.")


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
            return _as_booked(call, receipt)

        return guarded(TransactionPayload, info, REDEEM, work)
