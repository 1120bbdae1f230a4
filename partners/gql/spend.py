"""Taking points as payment: redeemPoints at once, or authorizeHold then captureHold/voidHold,
like a card payment."""

from __future__ import annotations

from typing import Any

import graphene

from network import ledger
from network.ledger.errors import (
    AmountTooLarge,
    CaptureExceedsHold,
    HoldExpired,
    HoldNotActive,
    HoldNotFound,
    InsufficientPoints,
    InvalidAmount,
    InvalidId,
    InvalidInput,
    MemberBlocked,
    Required,
)
from network.ledger.journal import entry_reference
from network.ledger.receipts import Receipt
from partners.gql.app_caches import app_caches
from partners.gql.mutation_support import MEMBER_INPUT, Call, PartnerMutation, partner_errors
from partners.gql.payloads import TransactionPayload, transaction_from_receipt, transaction_payload
from partners.gql.refs import CARD_NUMBER_DOC, MEMBER_ID_DOC, decode_id, resolve_member
from partners.scopes import REDEEM


def _taken(payload: type[TransactionPayload], call: Call, input: dict[str, Any],
           operation: Any, **more: Any) -> TransactionPayload:
    """redeemPoints and authorizeHold: points taken (or reserved) from the member the input
    names, under the partner's reference."""
    member_id = resolve_member(call.ctx.db, input, app_caches(call.ctx))
    receipt = operation(
        call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
        partner_id=call.partner.party_id, member_id=member_id, points=input["points"],
        reference=input.get("reference"), now=call.ctx.now, **more)
    return payload.of(receipt, transaction_from_receipt(receipt, reference=input.get("reference")))


def _on_hold(payload: type[TransactionPayload], call: Call, input: dict[str, Any],
             operation: Any, **more: Any) -> TransactionPayload:
    """captureHold and voidHold: the hold the input names, answered with the reference the
    ledger stored (the hold's when none was given), read back so the answer says what
    `transactions` will; one indexed read, off the earn path."""
    receipt: Receipt = operation(
        call.ctx.db, scope=call.scope, idempotency_key=call.idempotency_key,
        partner_id=call.partner.party_id,
        hold_id=decode_id(input["hold_id"], "PartnerHold", "holdId"), now=call.ctx.now, **more)
    reference = call.ctx.db.read(entry_reference, receipt.entry_id)
    return payload.of(receipt, transaction_from_receipt(receipt, reference=reference))


# What taking points may be refused for, beyond the member reference.
SPEND = (InvalidAmount, AmountTooLarge, InsufficientPoints, MemberBlocked, InvalidInput)
# What a hold id (holdId) may be refused for.
HOLD_INPUT = (Required, InvalidId, HoldNotFound, HoldNotActive, HoldExpired)


class RedeemPointsInput(graphene.InputObjectType):
    member_id = graphene.ID(description=MEMBER_ID_DOC)
    card_number = graphene.String(description=CARD_NUMBER_DOC)
    points = graphene.Int(required=True, description="Points to take, 1 to 1,000,000,000 and at "
                                                     "most the member's spendable points.")
    reference = graphene.String(description="Your receipt or order number, at most 200 "
                                            "characters.")


class RedeemPoints(PartnerMutation):
    class Arguments:
        input = RedeemPointsInput(required=True)

    errors = partner_errors("RedeemPoints", *MEMBER_INPUT, *SPEND)
    Output = transaction_payload(errors)
    scope = REDEEM

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> TransactionPayload:
        return _taken(cls._meta.output, call, input, ledger.redeem)


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


class AuthorizeHold(PartnerMutation):
    class Arguments:
        input = AuthorizeHoldInput(required=True)

    errors = partner_errors("AuthorizeHold", *MEMBER_INPUT, *SPEND)
    Output = transaction_payload(errors)
    scope = REDEEM

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> TransactionPayload:
        return _taken(cls._meta.output, call, input, ledger.authorize_hold,
                      expires_at=input.get("expires_at"))


class CaptureHoldInput(graphene.InputObjectType):
    hold_id = graphene.ID(required=True, description="The PartnerHold id authorizeHold answered.")
    points = graphene.Int(description="Capture part of the hold (1 to the hold's points); all of "
                                      "it when omitted. The rest goes back to the member.")
    reference = graphene.String(description="Booked on the capture, at most 200 characters; "
                                            "the hold's reference when omitted.")


class CaptureHold(PartnerMutation):
    class Arguments:
        input = CaptureHoldInput(required=True)

    errors = partner_errors("CaptureHold", *HOLD_INPUT, CaptureExceedsHold, InvalidAmount,
                            AmountTooLarge, InvalidInput)
    Output = transaction_payload(errors)
    scope = REDEEM

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> TransactionPayload:
        return _on_hold(cls._meta.output, call, input, ledger.capture_hold,
                        points=input.get("points"), reference=input.get("reference"))


class VoidHoldInput(graphene.InputObjectType):
    hold_id = graphene.ID(required=True, description="The PartnerHold id authorizeHold answered.")


class VoidHold(PartnerMutation):
    class Arguments:
        input = VoidHoldInput(required=True)

    errors = partner_errors("VoidHold", *HOLD_INPUT)
    Output = transaction_payload(errors)
    scope = REDEEM

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> TransactionPayload:
        return _on_hold(cls._meta.output, call, input, ledger.void_hold)
