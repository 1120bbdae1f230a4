"""The replay guard: a (keyid, nonce) pair is accepted once while its signature could be valid.

One INSERT … SELECT … ON CONFLICT DO NOTHING decides atomically, so two server processes
receiving the same replayed request at the same instant cannot both accept it. The same
statement re-reads the key's status, so a key revoked a moment ago claims nothing: that is the
one database read the authenticator makes for a key it has seen before.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, or_, select
from sqlalchemy.dialects import sqlite

from network.auth import AuthError, DeferredClaim
from network.db.engine import Database
from partners.keys_schema import partner_api_keys, partner_nonces

MAX_NONCE_LENGTH = 128
PRUNE_EVERY = 256  # on average, one request in this many also deletes expired nonces


# The claim as one INSERT … RETURNING: alone (`_CLAIM_PG`), or inside a single earn's statement
# (`deferred`), which books only if it returned a row. {source} is what else the SELECT reads.
_CLAIM_INSERT = """
    INSERT INTO partner_nonces (key_id, nonce, expires_at)
    SELECT k.key_id, %(nonce)s, %(nonce_expires_at)s FROM {source}partner_api_keys k
    WHERE k.key_id = %(nonce_key_id)s AND k.revoked_at IS NULL
      AND (k.expires_at IS NULL OR k.expires_at > %(nonce_now)s)
    ON CONFLICT DO NOTHING RETURNING 1 AS claimed"""
# PostgreSQL, alone: the commit of a nonce is asynchronous. A nonce lost in a crash only reopens
# a replay window of minutes for requests that idempotency keys still protect, so it need not
# wait for the WAL flush. set_config(…, true) lasts until the end of this statement's own
# transaction (it runs alone, in autocommit); the CTE is referenced so that it is evaluated.
# (Inside an earn's statement the nonce commits with the earn, whose commit waits anyway.)
_CLAIM_PG = ("WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))"
             + _CLAIM_INSERT.format(source="relaxed, "))
IN_STATEMENT = _CLAIM_INSERT.format(source="")
_keys = partner_api_keys.c
_CLAIM_SQLITE = (
    sqlite.insert(partner_nonces)
    .from_select(["key_id", "nonce", "expires_at"], select(
        _keys.key_id, bindparam("nonce", type_=partner_nonces.c.nonce.type),
        bindparam("nonce_expires_at", type_=partner_nonces.c.expires_at.type),
    ).where(_keys.key_id == bindparam("nonce_key_id"), _keys.revoked_at.is_(None),
            or_(_keys.expires_at.is_(None), _keys.expires_at > bindparam("nonce_now"))))
    .on_conflict_do_nothing()
    .returning(partner_nonces.c.nonce)
)


def _params(key_id: str, nonce: str, expires_at: datetime, now: datetime) -> dict[str, Any]:
    return {"nonce_key_id": key_id, "nonce": nonce, "nonce_expires_at": expires_at,
            "nonce_now": now}


def claim(db: Database, key_id: str, nonce: str, expires_at: datetime, now: datetime) -> bool:
    """True the first time the pair is seen while the key is active (and the pair is now
    remembered); False for a replay or a key revoked or expired by `now`, writing nothing."""
    return _claim(db, _params(key_id, nonce, expires_at, now))


def _claim(db: Database, params: dict[str, Any]) -> bool:
    if db.dialect == "postgresql":
        return db.pg_statement(_CLAIM_PG, params) is not None
    return db.write(lambda conn: conn.execute(_CLAIM_SQLITE, params).first()) is not None


def deferred(db: Database, key_id: str, nonce: str, expires_at: datetime, now: datetime, *,
             refusal: Callable[[], AuthError]) -> DeferredClaim:
    """`claim`, left for the request's first write (network.auth.DeferredClaim); expired
    nonces are pruned now and then once a claim succeeded."""
    params = _params(key_id, nonce, expires_at, now)

    def after() -> None:
        if due_for_pruning():
            db.write(prune, now)

    return DeferredClaim(IN_STATEMENT, params, lambda: _claim(db, params), refusal, after)


def prune(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(partner_nonces).where(partner_nonces.c.expires_at < now)).rowcount


def due_for_pruning() -> bool:
    return random.randrange(PRUNE_EVERY) == 0


def window_end(created: int, max_skew: int) -> datetime:
    """After this instant a signature created at `created` fails the time check anyway."""
    return datetime.fromtimestamp(created, UTC) + timedelta(seconds=max_skew)
