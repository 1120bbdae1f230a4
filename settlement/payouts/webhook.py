"""`POST /stripe/webhook`: Stripe tells us how payments ended; we update payment statuses.

The signature is checked with the library's own `stripe.Webhook.construct_event` (HMAC over
the raw body and timestamp, with a replay tolerance). Stripe delivers at least once, so each
event id is recorded and a duplicate is acknowledged without being applied a second time.
Events arrive out of order too: a final status is never downgraded to `submitted`.
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
from network.db.schema import parties
from settlement import store
from settlement.payouts import records
from settlement.schema import stripe_webhook_events

# event type -> (new status, error code) ; None status = note only
OUTCOMES: dict[str, tuple[str | None, str | None]] = {
    "transfer.created": ("succeeded", None),
    "transfer.reversed": ("failed", "transfer_reversed"),
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


def apply_event(conn: Connection, event: dict[str, Any], now: datetime) -> str:
    """Apply one verified event inside a transaction; returns what happened (for the reply)."""
    if conn.execute(select(stripe_webhook_events.c.event_id).where(
            stripe_webhook_events.c.event_id == event["id"])).first():
        return "duplicate"
    obj = event.get("data", {}).get("object", {}) or {}
    payment = records.by_stripe_object(conn, obj.get("id", "")) if obj.get("id") else None
    if payment is None and (obj.get("metadata") or {}).get("payment_id", "").isdigit():
        payment = records.by_id(conn, int(obj["metadata"]["payment_id"]))
    conn.execute(insert(stripe_webhook_events).values(
        event_id=event["id"], type=event.get("type", ""), object_id=obj.get("id"),
        payment_id=payment.id if payment else None, received_at=now))
    outcome = OUTCOMES.get(event.get("type", ""))
    if payment is None or outcome is None:
        return "ignored"
    status, code = outcome
    values: dict[str, Any] = {"stripe_status": obj.get("status") or event["type"]}
    if code:
        values.update(error_code=code, error_message=_error_message(obj, event["type"]))
    if status and not (status == "submitted" and payment.status in ("succeeded", "failed")):
        values["status"] = status
        if payment.stripe_object_id is None:
            values["stripe_object_id"] = obj.get("id")
    records.record(conn, payment.id, now, **values)
    hub = conn.execute(select(parties.c.id).where(parties.c.kind == "network")).scalar_one()
    run = store.get_run(conn, payment.run_id)
    if run and run.status != "paid" and records.all_succeeded(conn, payment.run_id, hub):
        store.set_status(conn, payment.run_id, "paid", now)
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
