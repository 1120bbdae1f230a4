"""One engine and one way to run a transaction, on PostgreSQL and SQLite alike.

Writes go through `Database.write`, which retries a bounded number of times when PostgreSQL
reports a serialization failure or a deadlock (the whole function runs again, so it must only
touch the database). On SQLite every write transaction starts with BEGIN IMMEDIATE, so writers
queue on the file lock instead of failing halfway. Reads on PostgreSQL run without BEGIN and
COMMIT (see `read`), and the partner hot path's few statements bypass SQLAlchemy
(`pg_statement`).

A database restart (or anything else that drops connections) must not fail the next request on
each dead connection: both the pool and `StatementConnections` look at a connection's socket
before handing it out (`peer_hung_up`); a server that ends a connection sends its FATAL message
and closes the socket first. What still fails on a lost connection is either run once more (a
write whose transaction never reached COMMIT, a read) or reported as `database_unavailable`,
which the endpoint answers with 503 and Retry-After.
"""

from __future__ import annotations

import random
import select
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import psycopg.conninfo
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from network.config import ConfigError, database_pgbouncer, redact

T = TypeVar("T")

MAX_ATTEMPTS = 8
# SQLSTATEs worth a retry: serialization_failure, deadlock_detected, and unique_violation, which
# a retry turns into a clean idempotent replay when two requests race on one idempotency key.
RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}
# Connections older than this are replaced (pool and `StatementConnections`): idle server
# timeouts and failovers would otherwise surface as errors on a partner's request.
RECYCLE_SECONDS = 1800

# psycopg converts a query's %(name)s placeholders once per query text and caches the result,
# but only for texts up to psycopg._queries.MAX_CACHED_STATEMENT_LENGTH (4,096 characters); a
# longer text is converted again on every execution (0.1 to 0.3 ms of client CPU). The ledger's
# one-statement writers (network/ledger/pg_writer.py, pg_debit.py, network/programme/pg_buy.py)
# are 3 to 7 kB and run on every earn, debit and purchase, so the bound is raised for the
# process. The set of statement texts is fixed and small, and the cache is an LRU of 128, so
# memory stays bounded. tests/network/test_wallet_summary.py fails if psycopg renames it.
HOT_STATEMENT_LENGTH = 16_384
if getattr(psycopg._queries, "MAX_CACHED_STATEMENT_LENGTH", 0) < HOT_STATEMENT_LENGTH:
    psycopg._queries.MAX_CACHED_STATEMENT_LENGTH = HOT_STATEMENT_LENGTH


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


# SQLSTATEs that mean the server, not the statement, is the problem: the server shut the session
# down (admin, crash) or is starting or out of connection slots. Class 08 (connection exception)
# is matched as a class.
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def peer_hung_up(connection: Any) -> bool:
    """True when an idle psycopg connection can no longer serve a statement.

    An idle connection has nothing to read; when the server ends it (pg_terminate_backend, a
    restart, an idle timeout) it sends its FATAL message and closes the socket, so the socket
    turns readable. One poll with no wait costs a system call, where a pre-ping costs a round
    trip. Anything unexpected to read also counts: the connection is merely replaced."""
    if connection.closed:
        return True
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _psycopg_unavailable(exc: BaseException) -> bool:
    if not isinstance(exc, psycopg.OperationalError):
        return False
    sqlstate = exc.sqlstate
    # No SQLSTATE: libpq's own failure (refused, EOF, "server closed the connection").
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES


def lost_connection(exc: BaseException) -> bool:
    """A pooled connection died under a statement (SQLAlchemy has invalidated it)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def database_unavailable(exc: BaseException | None) -> bool:
    """The error says PostgreSQL cannot be reached or will not serve us now, rather than that
    the statement or its data is wrong: the request may be retried later as it is."""
    if exc is None:
        return False
    if isinstance(exc, DBAPIError):
        return lost_connection(exc) or _psycopg_unavailable(exc.orig)
    return _psycopg_unavailable(exc)


def _replace_dead_connections(engine: Engine) -> None:
    """PostgreSQL pool: a connection whose server hung up is replaced at checkout (SQLAlchemy
    retries the checkout on DisconnectionError), so no statement is ever sent on it."""

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if peer_hung_up(dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")


def cache_key(engine: Engine) -> str:
    """The key this process's caches keep per database under (`str(engine.url)`), rendered once
    per engine: rendering the URL again cost a few µs on every earn, for each cache it asked."""
    key: str | None = engine.__dict__.get("_pointsnet_cache_key")
    if key is None:
        key = engine.__dict__["_pointsnet_cache_key"] = str(engine.url)
    return key


def make_engine(url: str, *, pgbouncer: bool = False, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip per transaction. A socket poll at checkout finds the
    # connections a restart ended (`peer_hung_up`); recycling bounds their age anyway.
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    if pgbouncer:
        # psycopg prepares a statement on the server from its fifth run on a connection; through
        # PgBouncer's transaction pooling the next run may land on another server connection,
        # which never saw it ("prepared statement _pg3_0 does not exist").
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "prepare_threshold": None}
    engine = create_engine(url, **kwargs)
    _replace_dead_connections(engine)
    return engine


def libpq_conninfo(engine: Engine) -> str:
    """The engine's URL as libpq connection parameters, as its dialect reads it: a multi-host
    URL (`?host=a:5432&host=b:5432&target_session_attrs=read-write`, for failover) becomes
    `host=a,b port=5432,5432 ...`, which a plain URL rewrite would pass on as one host name."""
    _, params = engine.dialect.create_connect_args(engine.url)
    params.pop("context", None)  # SQLAlchemy's adapters, not a libpq parameter
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})


class _Held:
    """A thread's statement connection, closed by `close` when the thread ends (its
    thread-local value goes, and with it the last reference) or when it is discarded."""

    __slots__ = ("connection", "cursor", "opened", "close", "__weakref__")

    def __init__(self, connection: psycopg.Connection[Any], opened: float,
                 close: Callable[[psycopg.Connection[Any]], None]) -> None:
        self.connection = connection
        self.cursor = connection.cursor(row_factory=namedtuple_row)
        self.opened = opened  # time.monotonic()
        self.close = weakref.finalize(self, close, connection)


class StatementConnections:
    """PostgreSQL: each thread's own autocommit connection and cursor, for `pg_statement`.

    Borrowing a pooled SQLAlchemy connection and switching it to autocommit and back cost about
    95,000 instructions per statement, more than a fifth of what psycopg itself spends, on a path
    every partner request takes two or three times. A thread keeps its connection until it
    breaks or is RECYCLE_SECONDS old (as the pool recycles), so there is at most one per thread
    that runs these statements: the endpoint's few GraphQL threads. A thread that ends closes
    its connection: the ledger's debits run here too, and a test or a worker pool that starts
    many short-lived threads must not leave a server connection open for each.
    """

    def __init__(self, engine: Engine, *, prepare: bool = True) -> None:
        self.conninfo = libpq_conninfo(engine)
        # None turns preparing off for the connection, `prepare=True` in execute included.
        self.prepare_threshold: int | None = 5 if prepare else None  # 5: psycopg's default
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[psycopg.Connection[Any]] = set()

    def execute(self, sql: str, params: Mapping[str, Any]) -> Any:
        cursor = self._cursor()
        try:
            return cursor.execute(sql, params, prepare=True).fetchone()
        except psycopg.OperationalError:
            self._discard()  # a broken connection must not serve the next statement
            raise

    def transaction(self, fn: Callable[[Callable[[str, Mapping[str, Any]], Any]], T]) -> T:
        """`Database.pg_transaction` on this thread's connection: BEGIN, `fn(execute)`, COMMIT
        (ROLLBACK when it raises)."""
        cursor = self._cursor()

        def execute(sql: str, params: Mapping[str, Any]) -> Any:
            return cursor.execute(sql, params, prepare=True).fetchone()

        try:
            with cursor.connection.transaction():
                return fn(execute)
        except psycopg.OperationalError:
            self._discard()  # a broken connection must not serve the next statement
            raise

    def _cursor(self) -> psycopg.Cursor[Any]:
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and (time.monotonic() - held.opened > RECYCLE_SECONDS
                                 or peer_hung_up(held.connection)):
            self._discard()
            held = None
        if held is None:
            conn = psycopg.connect(self.conninfo, autocommit=True,
                                   prepare_threshold=self.prepare_threshold)
            with self._lock:
                self._open.add(conn)
            held = self._local.held = _Held(conn, time.monotonic(), self._close)
        return held.cursor

    def _discard(self) -> None:
        held = self._local.held
        del self._local.held
        held.close()

    def _close(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def close_all(self) -> None:
        """Every thread's connection (the threads themselves reconnect if they run again)."""
        with self._lock:
            conns, self._open = self._open, set()
        for conn in conns:
            conn.close()


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

    def __init__(self, url: str, *, pgbouncer: bool | None = None, **engine_kwargs: Any) -> None:
        """`pgbouncer`: reached through PgBouncer pooling transactions, so nothing is prepared
        on the server; None reads POINTSNET_DATABASE_PGBOUNCER (network/config.py)."""
        self.url = url
        self.pgbouncer = database_pgbouncer() if pgbouncer is None else pgbouncer
        self.engine = make_engine(url, pgbouncer=self.pgbouncer, **engine_kwargs)
        self.dialect = self.engine.dialect.name  # 'postgresql' | 'sqlite'
        self._statements = (StatementConnections(self.engine, prepare=not self.pgbouncer)
                            if self.dialect == "postgresql" else None)
        # How the ledger writes earns here (one statement on PostgreSQL), chosen once for this
        # database rather than by a dialect test in every operation. Imported here, not at the
        # top: the ledger's modules import this one.
        from network.ledger.stores import earn_store
        self.earn_store = earn_store(self.dialect)

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        reconnected = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            committing = False
            try:
                with self.engine.connect() as conn:
                    if self.dialect == "sqlite":
                        conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        result = fn(conn, *args, **kwargs)
                        committing = True
                    return result
            except Exception as exc:
                # A connection lost before COMMIT was sent took its transaction with it, so the
                # function runs once more on a fresh one. Lost during COMMIT, the outcome is
                # unknown: that error goes to the caller (503), whose retry carries the same
                # idempotency key and so gets the first outcome if there was one.
                if not committing and not reconnected and lost_connection(exc):
                    reconnected = True
                    continue
                if attempt == MAX_ATTEMPTS or not _is_retryable(exc):
                    raise
                # Jittered backoff so two colliding writers do not collide again in lockstep.
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    def pg_statement(self, sql: str, params: Mapping[str, Any]) -> Any:
        """PostgreSQL only: ONE statement, its first row (attributes by column name) or None.

        For the few statements every partner request runs (nonce, earn, card). It goes straight
        through the calling thread's own psycopg connection in autocommit mode
        (`StatementConnections`), where a single statement is a transaction of its own, prepared
        on the server. A one-row SELECT costs 55 to 68 µs of client CPU this way, against
        141 µs on a pooled connection switched to autocommit and back and about 290 µs through
        SQLAlchemy inside BEGIN…COMMIT (infra/bench/earn_cost.py). A connection the server has
        ended is replaced before the statement is sent (`peer_hung_up`). Errors are psycopg's
        own, not wrapped, not retried: a statement that failed on a connection breaking under it
        may have committed, and only its caller's idempotency key makes a retry safe.
        """
        assert self._statements is not None, "pg_statement is for PostgreSQL"
        return self._statements.execute(sql, params)

    def pg_transaction(self, fn: Callable[[Callable[[str, Mapping[str, Any]], Any]], T], *,
                       thread_connection: bool = False) -> T:
        """PostgreSQL only: a few prepared statements in one transaction straight through
        psycopg (no SQLAlchemy statement), for a write that must take a lock before it reads what
        the lock guards (a purchase: the debit's call takes the member's lock, then the purchase
        reads the member's earlier purchases; see network/programme/pg_buy.py). `fn(execute)`
        returns the result, `execute(sql, params)` one statement's first row; an exception
        rolls back. The connection comes from the pool, not `pg_statement`'s per-thread ones:
        many threads buying at once wait for a pooled connection instead of each opening one.
        Errors are psycopg's own, not retried.

        `thread_connection`: on the calling thread's own connection instead, as `pg_statement`,
        for a caller on the GraphQL endpoint's few threads, which hold one each anyway (a member's
        bearer session is read there): the pool's checkout and return cost about a sixth of the
        hub's CPU for a purchase (py-spy, GIL samples). Never from the web pages' many threads."""
        assert self.dialect == "postgresql", "pg_transaction is for PostgreSQL"
        if thread_connection:
            assert self._statements is not None
            return self._statements.transaction(fn)
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor(row_factory=namedtuple_row) as cursor:

                def execute(sql: str, params: Mapping[str, Any]) -> Any:
                    return cursor.execute(sql, params, prepare=True).fetchone()

                try:
                    result = fn(execute)
                except BaseException:
                    raw.rollback()
                    raise
                raw.commit()
                return result

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Reads. On PostgreSQL without BEGIN and COMMIT: at READ COMMITTED every statement takes
        its own snapshot even inside a transaction, so one would only cost two round trips.
        Reads that must agree with each other use `network.wallet.reads.snapshot` (REPEATABLE
        READ). On SQLite a read transaction, which is one snapshot. A read that lost its
        connection runs once more on a fresh one: it wrote nothing."""
        try:
            return self._read(fn, *args, **kwargs)
        except DBAPIError as exc:
            if not lost_connection(exc):
                raise
        return self._read(fn, *args, **kwargs)

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                return fn(conn.execution_options(isolation_level="AUTOCOMMIT"), *args, **kwargs)
            with conn.begin():
                return fn(conn, *args, **kwargs)

    def dispose(self) -> None:
        if self._statements is not None:
            self._statements.close_all()
        self.engine.dispose()


def open_database(url: str, *, create: bool = False) -> Database:
    """The database at POINTSNET_DATABASE_URL, checked before any command uses it.

    Without `create` the database must already hold the hub's schema: a command run in the wrong
    directory would otherwise open (and so create) an empty `pointsnet.db` there and then fail
    on a missing table. `create` is for the commands that build the schema (`db upgrade`,
    `demo`, `serve --demo`): a new SQLite file is fine, a missing directory is not.
    Raises ConfigError (code NO_DATABASE) naming the variable and what to do.
    """
    name = "POINTSNET_DATABASE_URL"
    parsed = make_url(url)
    path = Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database \
        and parsed.database != ":memory:" else None
    if path is not None:
        if not path.parent.is_dir():
            raise ConfigError(f"{name} names the SQLite file {path.absolute()}, whose directory "
                              "does not exist", code="NO_DATABASE")
        if not create and not path.exists():
            raise ConfigError(f"{name} names the SQLite file {path.absolute()}, which does not "
                              f"exist; set {name} to the hub's database, or create this one "
                              "with `pointsnet db upgrade`", code="NO_DATABASE")
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            migrated = inspect(conn).has_table("alembic_version")
    except DBAPIError as exc:
        database.dispose()
        raise ConfigError(f"{name}: cannot open {redact(url)}: {exc.orig}",
                          code="NO_DATABASE") from None
    if not create and not migrated:
        database.dispose()
        raise ConfigError(f"{name}: {redact(url)} holds no hub schema; run `pointsnet db "
                          "upgrade` (or point the variable at the hub's database)",
                          code="NO_DATABASE")
    return database
