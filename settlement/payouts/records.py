"""Local payment records, written in phases around each Stripe call.

Phase 1 (own transaction): the payment row exists as `pending` with its idempotency key before
Stripe hears of it. Phase 2: the Stripe call, outside any transaction. Phase 3 (own
transaction): Stripe's answer is recorded. A crash after phase 1 or 2 leaves `pending`, and the
next `pay` repeats the call with the *same* key, so Stripe replays instead of paying again.
Only a permanent refusal (`failed`) lets the next attempt use a new key, and even then `pay`
first looks at Stripe for what earlier attempts left (keys alone do not prevent paying twice).

`succeeded` is final: nothing `pay` or a webhook records afterwards changes it (a late or
out-of-order answer is stale by definition); only a note for staff can be added (`flag`).
`failed` can still become `succeeded` (the money moved after all) but is never set back to
`pending`/`submitted` except by `begin`, which starts a new attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from network.clock import as_utc
from network.parties import network_party_id
from settlement import store
from settlement.schema import settlement_payments, settlement_positions

P = settlement_payments.c

# Error codes on a *succeeded* payment that need a person: money moved, but not as planned.
NEEDS_STAFF = {
    "transfer_reversed": "the platform reversed (part of) the transfer; nothing is re-sent",
    "earlier_attempt_paid": "an earlier attempt's Stripe object was paid; void the later one",
    "paid_twice": "two attempts were paid; refund one",
}


@dataclass(frozen=True)
class Payment:
    id: int
    run_id: int
    party_id: int
    method: str
    amount_minor: int
    currency: str
    status: str
    attempt: int
    idempotency_key: str
    stripe_object_id: str | None
    stripe_status: str | None
    error_code: str | None
    error_message: str | None
    updated_at: datetime


def _payment(row: Any) -> Payment:
    return Payment(row.id, row.run_id, row.party_id, row.method, row.amount_minor, row.currency,
                   row.status, row.attempt, row.idempotency_key, row.stripe_object_id,
                   row.stripe_status, row.error_code, row.error_message, as_utc(row.updated_at))


def idempotency_key(run_id: int, party_id: int, attempt: int) -> str:
    """Derived, never random: the same run, party and attempt always give the same key."""
    return f"pointsnet-settlement-run{run_id}-party{party_id}-a{attempt}"


def find(conn: Connection, run_id: int, party_id: int) -> Payment | None:
    row = conn.execute(select(settlement_payments).where(
        P.run_id == run_id, P.party_id == party_id)).first()
    return _payment(row) if row else None


def for_run(conn: Connection, run_id: int) -> list[Payment]:
    rows = conn.execute(select(settlement_payments).where(P.run_id == run_id)
                        .order_by(P.party_id))
    return [_payment(r) for r in rows]


def by_stripe_object(conn: Connection, object_id: str) -> Payment | None:
    row = conn.execute(select(settlement_payments).where(P.stripe_object_id == object_id)).first()
    return _payment(row) if row else None


def by_id(conn: Connection, payment_id: int) -> Payment | None:
    row = conn.execute(select(settlement_payments).where(P.id == payment_id)).first()
    return _payment(row) if row else None


def begin(conn: Connection, *, run_id: int, party_id: int, method: str, amount_minor: int,
          currency: str, now: datetime) -> Payment:
    """Phase 1: record the intent (or reopen a failed payment as a new attempt)."""
    existing = conn.execute(select(settlement_payments).where(
        P.run_id == run_id, P.party_id == party_id).with_for_update()).first()
    if existing is None:
        conn.execute(insert(settlement_payments).values(
            run_id=run_id, party_id=party_id, method=method, amount_minor=amount_minor,
            currency=currency, status="pending", attempt=1,
            idempotency_key=idempotency_key(run_id, party_id, 1), created_at=now, updated_at=now))
    elif existing.status == "failed":
        attempt = existing.attempt + 1
        conn.execute(update(settlement_payments).where(P.id == existing.id).values(
            status="pending", attempt=attempt, method=method,
            idempotency_key=idempotency_key(run_id, party_id, attempt), stripe_object_id=None,
            stripe_status=None, error_code=None, error_message=None, updated_at=now))
    return find(conn, run_id, party_id)  # type: ignore[return-value]


def record(conn: Connection, payment_id: int, now: datetime, **values: Any) -> bool:
    """Phase 3 (and intermediate steps): store what Stripe said, unless the row already holds a
    final answer this would contradict (see the module docstring). The guard is in the UPDATE's
    WHERE, so a webhook committing `succeeded` concurrently still wins. Returns whether written."""
    writable = P.status != "succeeded"
    if values.get("status") in ("pending", "submitted"):
        writable = P.status.in_(("pending", "submitted"))
    result = conn.execute(update(settlement_payments).where(P.id == payment_id, writable)
                          .values(updated_at=now, **values))
    return result.rowcount == 1


def flag(conn: Connection, payment_id: int, now: datetime, code: str, message: str,
         **stripe_state: str) -> None:
    """A note for staff on a payment whatever its status (see NEEDS_STAFF), with what Stripe
    says of the object (`stripe_status`); the status itself is left alone."""
    conn.execute(update(settlement_payments).where(P.id == payment_id)
                 .values(updated_at=now, error_code=code, error_message=message, **stripe_state))


def expected_payments(conn: Connection, run_id: int) -> int:
    c = settlement_positions.c
    return conn.execute(select(func.count()).where(
        c.run_id == run_id, c.net_minor != 0, c.party_id != network_party_id(conn))).scalar_one()


def all_succeeded(conn: Connection, run_id: int) -> bool:
    done = conn.execute(select(func.count()).where(
        P.run_id == run_id, P.status == "succeeded")).scalar_one()
    return done == expected_payments(conn, run_id)


def follow_payments(conn: Connection, run_id: int, now: datetime) -> None:
    """A paying run is `paid` exactly while every payment succeeded, and back to `paying` as
    soon as one is not (so the next `pay` retries it instead of returning early)."""
    run = store.get_run(conn, run_id)
    if run is None or run.status not in ("paying", "paid"):
        return
    status = "paid" if all_succeeded(conn, run_id) else "paying"
    if status != run.status:
        store.set_status(conn, run_id, status, now)
