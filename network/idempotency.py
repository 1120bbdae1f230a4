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
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, literal, select, true

from network.db.clauses import one_of
from network.db.schema import idempotency_keys
from network.ledger.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidInput

MAX_KEY_LENGTH = 200

# Called once for each request, and each line of a batch, answered from its stored response
# (infra/metrics.py counts them).
replay_observers: list[Callable[[], None]] = []


def observe_replay() -> None:
    """Tell the observers one answer was given again from its stored response."""
    for observe in replay_observers:
        observe()


def validate_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("an idempotency key is required", field="idempotencyKey",
                           code="IDEMPOTENCY_KEY_MISSING")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable characters",
                           field="idempotencyKey", code="IDEMPOTENCY_KEY_INVALID")
    return key


# Built once: `json.dumps` with options builds an encoder per call, which a 1,000-line batch
# (a hash per line) felt. Its output is the hash's canonical form: it must never change.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))


def request_hash(operation: str, params: Mapping[str, Any]) -> str:
    canonical = _CANONICAL.encode({"op": operation, "params": params})
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_hash_around(operation: str, params: Mapping[str, Any], hole: Any,
                        marker: str) -> list[str] | None:
    """The canonical text `request_hash` hashes, cut where `params` hold the integer `hole`
    stands for (written as the string `marker` meanwhile): the hash of the parts joined by the
    integer's decimal digits is `request_hash` of the params holding it (a statement that finds
    the integer computes it, network/ledger/pg_writer.py). None if the text holds the marker
    anywhere else (then the integer must be found first)."""
    def fill(value: Any) -> tuple[Any, int]:
        if value is hole:
            return marker, 1
        if isinstance(value, dict):
            filled = {k: fill(v) for k, v in value.items()}
            return {k: v for k, (v, _) in filled.items()}, sum(n for _, n in filled.values())
        if isinstance(value, list):
            items = [fill(v) for v in value]
            return [v for v, _ in items], sum(n for _, n in items)
        return value, 0

    filled, holes = fill(dict(params))
    parts = _CANONICAL.encode({"op": operation, "params": filled}).split(json.dumps(marker))
    return parts if len(parts) == holes + 1 else None


def advisory_key(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# Built once (see network/ledger/balances.py for why).
_STORED = select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
    idempotency_keys.c.scope == bindparam("scope"), idempotency_keys.c.key == bindparam("key"))
# PostgreSQL: the advisory lock and the lookup in one round trip. If the first request commits
# between this statement's snapshot and its lock, our final insert hits the primary key and
# Database.write runs the whole transaction again, which then finds the stored answer.
_LOOKUP = _STORED.subquery()
_LOCK_AND_STORED = select(
    func.pg_try_advisory_xact_lock(bindparam("lock_key")).label("locked"),
    _LOOKUP.c.request_hash, _LOOKUP.c.response,
).select_from(select(literal(1).label("one")).subquery().outerjoin(_LOOKUP, true()))
_REMEMBER = insert(idempotency_keys)


def claim(conn: Connection, scope: str, key: str, digest: str) -> dict[str, Any] | None:
    """Return the stored response for a replay, None for a new request; raise on misuse."""
    params = {"scope": scope, "key": key}
    if conn.dialect.name == "postgresql":
        row = conn.execute(_LOCK_AND_STORED,
                           {**params, "lock_key": advisory_key(scope, key)}).one()
        if not row.locked:
            raise IdempotencyInProgress(
                "a request with this idempotency key is still being processed; retry shortly",
                field="idempotencyKey")
        if row.request_hash is None:
            return None
    else:
        row = conn.execute(_STORED, params).first()
        if row is None:
            return None
    return check_replay(row.request_hash, digest, row.response)


def stored(conn: Connection, scope: str, keys: list[str]) -> dict[str, Any]:
    """key -> stored row (`request_hash`, `response`) for the keys of `keys` already used; a plain
    read, no lock (for batches, and for answering a retry its caller would now refuse)."""
    rows = conn.execute(
        select(idempotency_keys.c.key, idempotency_keys.c.request_hash,
               idempotency_keys.c.response)
        .where(idempotency_keys.c.scope == scope, one_of(conn, idempotency_keys.c.key, keys))
    )
    return {row.key: row for row in rows}


def check_replay(stored_hash: str, digest: str, response: Mapping[str, Any]) -> dict[str, Any]:
    """The stored answer, if the retry is the same request as the first."""
    if stored_hash != digest:
        raise IdempotencyKeyReused(
            "this idempotency key was already used for a different request", field="idempotencyKey")
    observe_replay()
    return dict(response)


def remember(conn: Connection, scope: str, key: str, digest: str, response: Mapping[str, Any],
             now: datetime) -> None:
    conn.execute(_REMEMBER, {"scope": scope, "key": key, "request_hash": digest,
                             "response": dict(response), "created_at": now})
