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
    """Run `body` once per (scope, key): a replay returns the stored receipt and writes nothing."""
    idempotency.validate_key(key)
    digest = idempotency.request_hash(operation, params)

    def transaction(conn: Connection) -> Receipt:
        stored = idempotency.claim(conn, scope, key, digest)
        if stored is not None:
            return Receipt.from_dict(stored)
        # SQLite stores a datetime's wall clock and drops its offset: only UTC compares right.
        at = as_utc(now) if now is not None else utcnow()
        receipt = body(conn, at)
        idempotency.remember(conn, scope, key, digest, receipt.as_dict(), at)
        return receipt

    return db.write(transaction)
