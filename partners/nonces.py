"""The replay guard: a (keyid, nonce) pair is accepted once while its signature could be valid.

One INSERT … ON CONFLICT DO NOTHING decides atomically, so two server processes receiving the
same replayed request at the same instant cannot both accept it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import sqlite

from network.db.engine import Database
from partners.keys_schema import partner_nonces

MAX_NONCE_LENGTH = 128
PRUNE_EVERY = 256  # on average, one request in this many also deletes expired nonces


# PostgreSQL: the commit of a nonce is asynchronous. A nonce lost in a crash only reopens a
# replay window of minutes for requests that idempotency keys still protect, so it need not wait
# for the WAL flush. set_config(…, true) lasts until the end of this statement's own transaction
# (it runs alone, in autocommit); the CTE is referenced so that it is evaluated.
_CLAIM_PG = """
    WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
    INSERT INTO partner_nonces (key_id, nonce, expires_at)
    SELECT %(key_id)s, %(nonce)s, %(expires_at)s FROM relaxed
    ON CONFLICT DO NOTHING RETURNING 1 AS claimed
"""
_CLAIM_SQLITE = (sqlite.insert(partner_nonces).on_conflict_do_nothing()
                 .returning(partner_nonces.c.nonce))


def claim(db: Database, key_id: str, nonce: str, expires_at: datetime) -> bool:
    """True the first time the pair is seen (and it is now remembered); False for a replay."""
    params = {"key_id": key_id, "nonce": nonce, "expires_at": expires_at}
    if db.dialect == "postgresql":
        return db.pg_statement(_CLAIM_PG, params) is not None
    return db.write(lambda conn: conn.execute(_CLAIM_SQLITE, params).first()) is not None


def prune(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(partner_nonces).where(partner_nonces.c.expires_at < now)).rowcount


def due_for_pruning() -> bool:
    return random.randrange(PRUNE_EVERY) == 0


def window_end(created: int, max_skew: int) -> datetime:
    """After this instant a signature created at `created` fails the time check anyway."""
    return datetime.fromtimestamp(created, UTC) + timedelta(seconds=max_skew)
