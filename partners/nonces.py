"""The replay guard: a (keyid, nonce) pair is accepted once while its signature could be valid.

One INSERT … ON CONFLICT DO NOTHING decides atomically, so two server processes receiving the
same replayed request at the same instant cannot both accept it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, text
from sqlalchemy.dialects import postgresql, sqlite

from partners.keys import ApiKey, find_key, key_from_row
from partners.keys_schema import partner_nonces

MAX_NONCE_LENGTH = 128
PRUNE_EVERY = 256  # on average, one request in this many also deletes expired nonces


def remember_nonce(conn: Connection, key_id: str, nonce: str, expires_at: datetime) -> bool:
    """True the first time the pair is seen; False for a replay."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(partner_nonces)
        .values(key_id=key_id, nonce=nonce, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(partner_nonces.c.nonce)
    )
    return conn.execute(statement).first() is not None


# PostgreSQL: the key row and the nonce claim in one round trip. The commit is asynchronous:
# a nonce lost in a crash only reopens a replay window of minutes for requests that are still
# protected by idempotency keys, so it need not wait for the WAL flush.
_PG_KEY_AND_NONCE = text("""
    WITH durability AS (SELECT set_config('synchronous_commit', 'off', true) AS value),
         claimed AS (INSERT INTO partner_nonces (key_id, nonce, expires_at)
                     VALUES (:key_id, :nonce, :expires_at)
                     ON CONFLICT DO NOTHING RETURNING 1)
    SELECT k.*, (SELECT count(*) FROM claimed) AS fresh_nonce,
           (SELECT count(*) FROM durability) AS relaxed
    FROM (SELECT 1) AS one LEFT JOIN partner_api_keys AS k ON k.key_id = :key_id
""")


def key_and_nonce(conn: Connection, key_id: str, nonce: str,
                  expires_at: datetime) -> tuple[ApiKey | None, bool]:
    """The API key (or None) and whether the nonce is fresh, claiming it if so.

    The caller must roll the transaction back when it refuses the request, so a refused
    request leaves no nonce behind.
    """
    if conn.dialect.name == "postgresql":
        row = conn.execute(_PG_KEY_AND_NONCE, {"key_id": key_id, "nonce": nonce,
                                               "expires_at": expires_at}).one()
        return (key_from_row(row) if row.key_id is not None else None), bool(row.fresh_nonce)
    key = find_key(conn, key_id)
    return key, remember_nonce(conn, key_id, nonce, expires_at)


def prune(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(partner_nonces).where(partner_nonces.c.expires_at < now)).rowcount


def maybe_prune(conn: Connection, now: datetime) -> None:
    if random.randrange(PRUNE_EVERY) == 0:
        prune(conn, now)


def window_end(created: int, max_skew: int) -> datetime:
    """After this instant a signature created at `created` fails the time check anyway."""
    return datetime.fromtimestamp(created, UTC) + timedelta(seconds=max_skew)
