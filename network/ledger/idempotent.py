"""The one wrapper that makes every ledger operation idempotent: one transaction per (scope, key),
a replay answered with the stored receipt (network/idempotency.py keeps the keys)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from network import idempotency
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.ledger import observers
from network.ledger.receipts import Receipt


def run(
    db: Database,
    *,
    scope: str,
    key: str,
    operation: str,
    params: Mapping[str, Any],
    body: Callable[[Connection, datetime], Receipt],
    now: datetime | None = None,
) -> Receipt:
    """Run `body` once per (scope, key): a replay returns the stored receipt and writes nothing.

    Whoever listens to this operation (observers.py: partner webhooks) writes in the same
    transaction, after the booking; a replay is not a booking and tells nobody."""
    idempotency.validate_key(key)
    digest = idempotency.request_hash(operation, params)
    listeners = observers.listening(scope, operation)

    def transaction(conn: Connection) -> Receipt:
        stored = idempotency.claim(conn, scope, key, digest)
        if stored is not None:
            return Receipt.from_dict(stored)
        # SQLite stores a datetime's wall clock and drops its offset: only UTC compares right.
        at = as_utc(now) if now is not None else utcnow()
        receipt = body(conn, at)
        answer = receipt.as_dict()
        idempotency.remember(conn, scope, key, digest, answer, at)
        if listeners:
            observers.tell(conn, listeners, lambda: [observers.Booking(
                scope=scope, operation=operation, answer=answer,
                reference=reference_of(params), at=at)])
        return receipt

    return db.write(transaction)


def reference_of(params: Mapping[str, Any]) -> str | None:
    """The caller's reference, where an operation's parameters keep it (an earn with a
    `request` keeps what the partner sent there)."""
    request = params.get("request")
    if isinstance(request, Mapping) and request.get("reference") is not None:
        return str(request["reference"])
    reference = params.get("reference")
    return str(reference) if reference is not None else None
