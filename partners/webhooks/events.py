"""The events a partner can subscribe to, and what each one's body says (pure functions).

Every body follows Standard Webhooks' shape: `{"type", "timestamp", "data"}`, `data` in the
partner API's own words (global ids as the GraphQL API gives them), never a card number, a
phone, an e-mail or a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from graphql_relay import to_global_id

from network.ledger.observers import Booking

MEMBER_ENROLLED = "member.enrolled"
POINTS_EARNED = "points.earned"
POINTS_REDEEMED = "points.redeemed"
POINTS_REVERSED = "points.reversed"
COUPON_BOUGHT = "coupon.bought"
COUPON_USED = "coupon.used"
STATEMENT_READY = "statement.ready"

# type -> when it is sent (the README's events table is this).
EVENT_TYPES: dict[str, str] = {
    MEMBER_ENROLLED: "you enrolled a member (enrolMember)",
    POINTS_EARNED: "points were booked for a purchase of yours (awardPoints, each booked line "
                   "of awardPointsBatch)",
    POINTS_REDEEMED: "points were taken as payment by you (redeemPoints, captureHold)",
    POINTS_REVERSED: "you reversed an earn or a redemption (reverseEarn, reverseRedemption)",
    COUPON_BOUGHT: "a member bought one of your rewards with points",
    COUPON_USED: "a coupon for one of your rewards was used",
    STATEMENT_READY: "the network closed a settlement month: your statement is ready",
}

# Ledger operations (network/ledger/observers.py) and the event each raises for the partner
# whose key did it. Holds and voids move no points for good: they raise nothing.
OPERATION_EVENTS: dict[str, str] = {
    "enrol": MEMBER_ENROLLED,
    "earn": POINTS_EARNED,
    "redeem": POINTS_REDEEMED,
    "capture": POINTS_REDEEMED,
    "reverse_earn": POINTS_REVERSED,
    "reverse_redemption": POINTS_REVERSED,
    # not ledger operations of the partner's key: the network tells the honouring partner
    # (network/programme/rewards_buy.py), under that partner's scope
    "coupon_bought": COUPON_BOUGHT,
    "coupon_used": COUPON_USED,
}


def partner_of(scope: str) -> int | None:
    """The partner whose key made the request, from the idempotency scope ("partner:12")."""
    kind, _, number = scope.partition(":")
    return int(number) if kind == "partner" and number.isdigit() else None


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def booking_data(booking: Booking) -> dict[str, Any]:
    """`data` for an event a ledger operation raised."""
    answer: Mapping[str, Any] = booking.answer
    member = to_global_id("PartnerMember", str(answer["member_id"]))
    if booking.operation == "enrol":
        return {"memberId": member}
    if booking.operation in ("coupon_bought", "coupon_used"):
        return {"couponId": to_global_id("PartnerCoupon", str(answer["purchase_id"])),
                "rewardId": to_global_id("Reward", str(answer["reward_id"])),
                "memberId": member, "points": answer["points"],
                "at": timestamp(booking.at)}
    data: dict[str, Any] = {
        "transactionId": to_global_id("PartnerTransaction", str(answer["entry_id"])),
        "kind": answer["kind"],
        "memberId": member,
        "points": answer["points"],
        "balance": answer.get("balance"),
        "reference": booking.reference,
        "bookedAt": answer.get("booked_at"),
    }
    if answer.get("hold_id") is not None:
        data["holdId"] = to_global_id("PartnerHold", str(answer["hold_id"]))
    return data


def body(event_type: str, data: Mapping[str, Any], at: datetime) -> str:
    """The JSON sent, compact (it is stored and signed byte for byte)."""
    return json.dumps({"type": event_type, "timestamp": timestamp(at), "data": data},
                      separators=(",", ":"), ensure_ascii=False, default=str)
