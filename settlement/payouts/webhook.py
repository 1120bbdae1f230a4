"""`POST /stripe/webhook`: Stripe tells us how payments ended; we update payment statuses.

The signature is checked with the library's own `stripe.Webhook.construct_event` (HMAC over
the raw body and timestamp, with a replay tolerance). Stripe delivers at least once, so each
event id is recorded and a duplicate is acknowledged without being applied a second time.
Events arrive out of order too: a final status is never downgraded (records.record).

An event changes a payment only when its object is the payment's *current* attempt's: the
stored object id, or (before `pay` could store it, after a crash) an object whose metadata
names this payment and its current attempt. An event about a superseded attempt's object never
changes the status, except that money it reports as moved is not lost: the payment counts as
paid (nothing is charged again) and is flagged for staff, who void or refund the other one.
A transfer can only be reversed by the platform itself, so `transfer.reversed` is a staff
decision: the amount reversed is recorded and flagged, and nothing is paid again by itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import Connection, insert, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.money import Money
from settlement.payouts import records
from settlement.schema import stripe_webhook_events

# event type -> (new status, error code) ; None status = note only
OUTCOMES: dict[str, tuple[str | None, str | None]] = {
    "transfer.created": ("succeeded", None),
    "invoice.paid": ("succeeded", None),
    "invoice.payment_succeeded": ("succeeded", None),
    "invoice.payment_failed": (None, "invoice_payment_failed"),
    "invoice.voided": ("failed", "invoice_voided"),
    "invoice.marked_uncollectible": ("failed", "invoice_uncollectible"),
    "payment_intent.succeeded": ("succeeded", None),
    "payment_intent.processing": ("submitted", None),
    "payment_intent.payment_failed": ("failed", "payment_failed"),
}


def _error_message(obj: dict[str, Any], event_type: str) -> str:
    last = obj.get("last_payment_error") or {}
    return last.get("message") or f"Stripe reported {event_type} for {obj.get('id')}"


def _payment_of(conn: Connection, obj: dict[str, Any]) -> tuple[records.Payment | None, bool]:
    """The payment an event's object belongs to, and whether it is its current attempt's."""
    object_id = obj.get("id") or ""
    payment = records.by_stripe_object(conn, object_id) if object_id else None
    if payment is not None:
        return payment, True
    metadata = obj.get("metadata") or {}
    if not str(metadata.get("payment_id", "")).isdigit():
        return None, False
    payment = records.by_id(conn, int(metadata["payment_id"]))
    if payment is None:
        return None, False
    # Untagged objects predate attempt tags and came from a first attempt.
    current = payment.stripe_object_id is None and \
        str(metadata.get("attempt", "1")) == str(payment.attempt)
    return payment, current


def apply_event(conn: Connection, event: dict[str, Any], now: datetime) -> str:
    """Apply one verified event inside a transaction; returns what happened (for the reply)."""
    if conn.execute(select(stripe_webhook_events.c.event_id).where(
            stripe_webhook_events.c.event_id == event["id"])).first():
        return "duplicate"
    obj = event.get("data", {}).get("object", {}) or {}
    event_type = event.get("type", "")
    payment, current = _payment_of(conn, obj)
    conn.execute(insert(stripe_webhook_events).values(
        event_id=event["id"], type=event_type, object_id=obj.get("id"),
        payment_id=payment.id if payment else None, received_at=now))
    if payment is None or (event_type not in OUTCOMES and event_type != "transfer.reversed"):
        return "ignored"
    if not current:
        result = _superseded(conn, payment, obj, event_type, now)
    elif event_type == "transfer.reversed":
        result = _reversed(conn, payment, obj, now)
    else:
        status, code = OUTCOMES[event_type]
        values: dict[str, Any] = {"stripe_object_id": obj.get("id"),
                                  "stripe_status": obj.get("status") or event_type}
        if status:
            values["status"] = status
        if code:
            values.update(error_code=code, error_message=_error_message(obj, event_type))
        result = "applied" if records.record(conn, payment.id, now, **values) else "stale"
    records.follow_payments(conn, payment.run_id, now)
    return result


def _superseded(conn: Connection, payment: records.Payment, obj: dict[str, Any],
                event_type: str, now: datetime) -> str:
    """An event about an object of an attempt that is no longer the payment's current one."""
    if OUTCOMES.get(event_type, (None, None))[0] != "succeeded":
        return "superseded"  # e.g. a late failure of attempt 1: attempt 2 decides the status
    if payment.status == "succeeded":
        records.flag(conn, payment.id, now, "paid_twice",
                     f"{obj.get('id')} (an earlier attempt) was paid too ({event_type}) after "
                     f"{payment.stripe_object_id}: refund one")
    else:
        # Its id replaces the current one, so a later payment of that one shows as paid_twice.
        records.record(conn, payment.id, now, status="succeeded", stripe_object_id=obj.get("id"),
                       stripe_status=obj.get("status") or event_type,
                       error_code="earlier_attempt_paid",
                       error_message=f"{obj.get('id')} from an earlier attempt was paid "
                       f"({event_type}); void {payment.stripe_object_id or 'any newer attempt'} "
                       "so it is not paid too")
    return "applied"


def _reversed(conn: Connection, payment: records.Payment, obj: dict[str, Any],
              now: datetime) -> str:
    """A reversal (the platform's own act): recorded and flagged, never paid again by itself."""
    reversed_minor = int(obj.get("amount_reversed") or 0)
    amount = Money(reversed_minor, payment.currency).format()
    of = Money(payment.amount_minor, payment.currency).format()
    records.flag(conn, payment.id, now, "transfer_reversed",
                 f"reversed {amount} of {of}; not re-sent, staff decide",
                 stripe_status="reversed" if obj.get("reversed") else "partially_reversed")
    return "applied"


def stripe_webhook_endpoint(db: Database, webhook_secret: str | None
                            ) -> Callable[[Request], Awaitable[Response]]:
    """Build the Starlette endpoint; mount as Route('/stripe/webhook', ..., methods=['POST']).
    Without a secret (POINTSNET_STRIPE_WEBHOOK_SECRET) every delivery is refused with 503."""

    async def stripe_webhook(request: Request) -> Response:
        if not webhook_secret:
            return JSONResponse({"error": {"code": "WEBHOOK_NOT_CONFIGURED", "message":
                                           "POINTSNET_STRIPE_WEBHOOK_SECRET is not set"}},
                                status_code=503)
        payload = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                payload, request.headers.get("stripe-signature"), webhook_secret)
        except stripe.SignatureVerificationError as exc:
            return JSONResponse({"error": {"code": "SIGNATURE_INVALID", "message": str(exc)}},
                                status_code=400)
        except ValueError as exc:
            return JSONResponse({"error": {"code": "BAD_PAYLOAD", "message": str(exc)}},
                                status_code=400)
        result = await run_in_threadpool(db.write, apply_event, event.to_dict(), utcnow())
        return JSONResponse({"received": True, "result": result})

    return stripe_webhook


def routes(db: Database, settings: Settings) -> list[Route]:
    """The routes infra/app.py mounts."""
    secret = settings.extra.get("STRIPE_WEBHOOK_SECRET") or None
    return [Route("/stripe/webhook", stripe_webhook_endpoint(db, secret), methods=["POST"])]
