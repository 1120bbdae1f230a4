"""Idempotency keys: a retry gets the first answer again and writes nothing twice.

A key is scoped to its caller ("partner:12", "member:7", "staff:3", "system"). The stored row holds
a hash of the request, so the same key with a different request is an error, not a silent replay.
Only successful operations are remembered: a rejected request writes nothing, so retrying it with
the same key is evaluated afresh.

On PostgreSQL a transaction first takes a transaction-scoped advisory lock on the key; when another
transaction holds it, the first request is still running and the caller gets
IDEMPOTENCY_IN_PROGRESS at once (HTTP 409) instead of queueing behind it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from network.db.schema import idempotency_keys
from network.ledger.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidInput

MAX_KEY_LENGTH = 200


def validate_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("an idempotency key is required", field="idempotencyKey",
                           code="IDEMPOTENCY_KEY_MISSING")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable characters",
                           field="idempotencyKey", code="IDEMPOTENCY_KEY_INVALID")
    return key


def request_hash(operation: str, params: Mapping[str, Any]) -> str:
    canonical = json.dumps({"op": operation, "params": params}, sort_keys=True, default=str,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _advisory_key(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def claim(conn: Connection, scope: str, key: str, digest: str) -> dict[str, Any] | None:
    """Return the stored response for a replay, None for a new request; raise on misuse."""
    stored = select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
        idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
    if conn.dialect.name == "postgresql":
        # One round trip: the lock, then the lookup. If the first request commits between this
        # statement's snapshot and its lock, our final insert hits the primary key and
        # Database.write runs the whole transaction again, which then finds the stored answer.
        lookup = stored.subquery()
        row = conn.execute(select(
            text("pg_try_advisory_xact_lock(:k) AS locked").bindparams(k=_advisory_key(scope, key)),
            lookup.c.request_hash, lookup.c.response,
        ).select_from(text("(SELECT 1) AS one")).outerjoin(lookup, text("true"))).one()
        if not row.locked:
            raise IdempotencyInProgress(
                "a request with this idempotency key is still being processed; retry shortly",
                field="idempotencyKey")
        if row.request_hash is None:
            return None
    else:
        row = conn.execute(stored).first()
        if row is None:
            return None
    if row.request_hash != digest:
        raise IdempotencyKeyReused(
            "this idempotency key was already used for a different request", field="idempotencyKey")
    return dict(row.response)


def remember(conn: Connection, scope: str, key: str, digest: str, response: Mapping[str, Any],
             now: datetime) -> None:
    conn.execute(insert(idempotency_keys).values(
        scope=scope, key=key, request_hash=digest, response=dict(response), created_at=now))
