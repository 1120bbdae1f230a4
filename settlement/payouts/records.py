"""Local payment records, written in phases around each Stripe call.

Phase 1 (own transaction): the payment row exists as `pending` with its idempotency key before
Stripe hears of it. Phase 2: the Stripe call, outside any transaction. Phase 3 (own
transaction): Stripe's answer is recorded. A crash after phase 1 or 2 leaves `pending`, and the
next `pay` repeats the call with the *same* key, so Stripe replays instead of paying again.
Only a permanent refusal (`failed`) lets the next attempt use a new key: the money did not move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from network.clock import as_utc
from settlement.schema import settlement_payments, settlement_positions

P = settlement_payments.c


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


def record(conn: Connection, payment_id: int, now: datetime, **values: Any) -> None:
    """Phase 3 (and intermediate steps): store what Stripe said."""
    conn.execute(update(settlement_payments).where(P.id == payment_id)
                 .values(updated_at=now, **values))


def expected_payments(conn: Connection, run_id: int, hub_party_id: int) -> int:
    c = settlement_positions.c
    return conn.execute(select(func.count()).where(
        c.run_id == run_id, c.net_minor != 0, c.party_id != hub_party_id)).scalar_one()


def all_succeeded(conn: Connection, run_id: int, hub_party_id: int) -> bool:
    done = conn.execute(select(func.count()).where(
        P.run_id == run_id, P.status == "succeeded")).scalar_one()
    return done == expected_payments(conn, run_id, hub_party_id)
