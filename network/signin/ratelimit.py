"""Database-backed fixed-window rate limits.

Counters live in a table so that every worker process and every restart sees the same count;
an upsert with RETURNING increments atomically on both PostgreSQL and SQLite. The increment is
part of the caller's transaction: a request refused for another reason rolls its hit back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from network.signin.schema import rate_limit_counters as counters
from network.web.errors import WalletError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    window: dt.timedelta


def _window_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    seconds = int(window.total_seconds())
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + dt.timedelta(seconds=elapsed - elapsed % seconds)


def hit(conn: Connection, limit: Limit, key: str, now: dt.datetime) -> None:
    """Count one hit against `limit` for `key`; raise RATE_LIMITED once the window is full."""
    bucket = f"{limit.name}:{key}"[:100]
    start = _window_start(now, limit.window)
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    upsert = insert(counters).values(bucket=bucket, window_start=start, hits=1)
    hits = conn.execute(upsert.on_conflict_do_update(
        index_elements=[counters.c.bucket, counters.c.window_start],
        set_={"hits": counters.c.hits + 1},
    ).returning(counters.c.hits)).scalar_one()
    if hits == 1:
        # First hit of a new window: forget this bucket's old windows so the table stays small.
        conn.execute(delete(counters).where(counters.c.bucket == bucket,
                                            counters.c.window_start < start))
    if hits > limit.hits:
        retry_after = int((start + limit.window - now).total_seconds()) + 1
        raise WalletError("RATE_LIMITED",
                          f"Too many requests; try again in {retry_after} seconds.",
                          retry_after=retry_after,
                          params={"minutes": max(1, -(-retry_after // 60))})


def retry_after(conn: Connection, limit: Limit, key: str, now: dt.datetime) -> int | None:
    """Seconds until `key` may try again under `limit`, or None if it may now. Reads only: for
    limits that count failures (`hit` after a refusal, committed on its own), checked before
    the next try."""
    start = _window_start(now, limit.window)
    hits = conn.execute(select(counters.c.hits).where(
        counters.c.bucket == f"{limit.name}:{key}"[:100],
        counters.c.window_start == start)).scalar()
    if hits is not None and hits >= limit.hits:
        return int((start + limit.window - now).total_seconds()) + 1
    return None
