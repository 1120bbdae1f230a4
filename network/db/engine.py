"""One engine and one way to run a transaction, on PostgreSQL and SQLite alike.

Writes go through `Database.write`, which retries a bounded number of times when PostgreSQL
reports a serialization failure or a deadlock (the whole function runs again, so it must only
touch the database). On SQLite every write transaction starts with BEGIN IMMEDIATE, so writers
queue on the file lock instead of failing halfway. Reads on PostgreSQL run without BEGIN and
COMMIT (see `read`), and the partner hot path's few statements bypass SQLAlchemy
(`pg_statement`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

MAX_ATTEMPTS = 8
# SQLSTATEs worth a retry: serialization_failure, deadlock_detected, and unique_violation, which
# a retry turns into a clean idempotent replay when two requests race on one idempotency key.
RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}


class RetryableConflict(Exception):
    """Raised inside a transaction to have `Database.write` roll back and run it again."""


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryableConflict):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in RETRYABLE_SQLSTATES:
            return sqlstate != "23505" or "idempotency_keys" in str(exc.orig)
        return "database is locked" in str(exc.orig)
    return False


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip per transaction; recycling covers idle server timeouts.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The unit of work: a function gets a connection inside one transaction, commits once."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.dialect = self.engine.dialect.name  # 'postgresql' | 'sqlite'

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.engine.connect() as conn:
                    if self.dialect == "sqlite":
                        conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        return fn(conn, *args, **kwargs)
            except Exception as exc:
                if attempt == MAX_ATTEMPTS or not _is_retryable(exc):
                    raise
                # Jittered backoff so two colliding writers do not collide again in lockstep.
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    def pg_statement(self, sql: str, params: Mapping[str, Any]) -> Any:
        """PostgreSQL only: ONE statement, its first row (attributes by column name) or None.

        For the few statements every partner request runs (key, nonce, earn). It goes straight
        through the pooled psycopg connection in autocommit mode, where a single statement is
        a transaction of its own, prepared on the server. A one-row SELECT costs 82 µs of client
        CPU this way against 197 µs through SQLAlchemy inside BEGIN…COMMIT
        (infra/bench/earn_cost.py). Errors are psycopg's own, not wrapped, not retried.
        """
        pooled = self.engine.raw_connection()
        try:
            conn = pooled.driver_connection
            conn.autocommit = True
            try:
                cursor = conn.cursor(row_factory=namedtuple_row)
                return cursor.execute(sql, params, prepare=True).fetchone()
            finally:
                conn.autocommit = False
        except psycopg.OperationalError:
            pooled.invalidate()  # a broken connection must not go back to the pool
            raise
        finally:
            pooled.close()

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Reads. On PostgreSQL without BEGIN and COMMIT: at READ COMMITTED every statement takes
        its own snapshot even inside a transaction, so one would only cost two round trips.
        Reads that must agree with each other use `network.wallet.reads.snapshot` (REPEATABLE
        READ). On SQLite a read transaction, which is one snapshot."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                return fn(conn.execution_options(isolation_level="AUTOCOMMIT"), *args, **kwargs)
            with conn.begin():
                return fn(conn, *args, **kwargs)

    def dispose(self) -> None:
        self.engine.dispose()
