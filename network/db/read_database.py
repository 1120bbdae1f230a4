"""Where read models read: a streaming replica when it is fresh enough, else the primary.

The rule this module exists for: **no write decision ever reads from the replica.** A balance
checked before spending, a hold, an idempotency key, a nonce, a session: all are read on the
primary inside the write's own transaction (`Database.write`), under its locks. That holds by
construction: a `ReadDatabase` offers `read` and `snapshot` and nothing else (no `write`, no
engine, no `pg_statement`), and only read-model code is handed one (`RequestContext.reads`, the
wallet pages' `Site.reads`, settlement's preview). A test keeps the list of modules that may
touch it short (tests/network/test_read_routing.py).

**Staleness bound.** A read goes to the replica only if the replica has replayed every write the
primary had when it was measured at most `max_lag` seconds before (POINTSNET_READ_MAX_LAG_SECONDS,
default 5). Every `check_every` seconds (1) one request thread samples the primary's WAL position
(`pg_current_wal_lsn()`) and the replica's replayed position (`pg_last_wal_replay_lsn()`); the
replica's staleness is the age of the newest primary sample it has replayed past. Any write
acknowledged to anyone before that sample is in it (a commit is acknowledged only once its WAL is
written), so a replica read misses nothing acknowledged more than `max_lag + check_every`
seconds earlier. An idle primary costs nothing: its position stays put and the replica is at it.
Measured from the hub rather than from `pg_last_xact_replay_timestamp()` alone, which cannot tell
an idle primary from a standby that lost its connection.

A replica that is stale, stopped, unreachable, no longer in recovery (promoted: it follows no
primary of ours) or cancels a read for a recovery conflict sends the read to the primary; the
hub logs each switch once. So a stopped standby costs reads nothing but their extra load on the
primary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from network.db.engine import Database, database_unavailable

T = TypeVar("T")
log = logging.getLogger("pointsnet.read_replica")

DEFAULT_MAX_LAG_SECONDS = 5.0
CHECK_EVERY_SECONDS = 1.0
# Shown in the replica's pg_stat_activity, so an operator (and a test) sees who reads there.
APPLICATION_NAME = "pointsnet-read"
# A replica that does not answer within this is treated as down for the next `check_every`.
CONNECT_TIMEOUT_SECONDS = 2
# A hot standby cancels a query that conflicts with replay: serialization_failure (40001), or
# 40P01 for a buffer-pin deadlock. Both mean "ask the primary".
_RECOVERY_CONFLICTS = {"40001", "40P01"}


def snapshot_on(db: Database, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Several statements as of one instant (REPEATABLE READ, READ ONLY on PostgreSQL; SQLite's
    read transactions are snapshots already). psycopg puts both options into its BEGIN, so this
    costs no extra round trip. A hot standby serves REPEATABLE READ read-only transactions."""
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
        with conn.begin():
            return fn(conn, *args, **kwargs)


def staleness(samples: deque[tuple[float, int]], replayed: int, now: float) -> float:
    """Seconds since the newest primary sample (time, WAL position) the replica has replayed
    past; infinite when it has replayed none of those kept."""
    for taken, position in reversed(samples):
        if position <= replayed:
            return now - taken
    return float("inf")


@dataclass(frozen=True)
class Decision:
    replica: bool
    lag: float  # seconds; inf when unknown
    why: str


class ReadDatabase:
    """The read side handed to read models; see the module docstring for the rule."""

    def __init__(self, primary: Database, replica_url: str | None = None, *,
                 max_lag: float = DEFAULT_MAX_LAG_SECONDS,
                 check_every: float = CHECK_EVERY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._primary = primary
        self._replica = None if replica_url is None else Database(
            replica_url, connect_args={"application_name": APPLICATION_NAME,
                                       "connect_timeout": CONNECT_TIMEOUT_SECONDS})
        self.max_lag = max_lag
        self.check_every = check_every
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._decision = Decision(False, float("inf"), "not checked yet")

    @property
    def dialect(self) -> str:
        return self._primary.dialect

    @property
    def has_replica(self) -> bool:
        return self._replica is not None

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`Database.read` on the replica if it is fresh enough, else on the primary."""
        return self._routed(lambda db: db.read(fn, *args, **kwargs))

    def snapshot(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`snapshot_on` the replica if it is fresh enough, else on the primary."""
        return self._routed(lambda db: snapshot_on(db, fn, *args, **kwargs))

    def decision(self) -> Decision:
        """Where reads go now (re-measured at most every `check_every` seconds)."""
        if self._replica is None:
            return Decision(False, float("inf"), "no replica configured")
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self.check_every:
            return self._decision
        if not self._lock.acquire(blocking=False):
            # Another thread is measuring (a standby not answering can take the connect
            # timeout). The last answer is already `check_every` old, and honouring it longer
            # would stretch the bound: the primary answers meanwhile.
            return Decision(False, float("inf"), "being measured")
        try:
            self._checked_at = now
            self._switch(self._measure(now))
        finally:
            self._lock.release()
        return self._decision

    def dispose(self) -> None:
        if self._replica is not None:
            self._replica.dispose()

    def _routed(self, run: Callable[[Database], T]) -> T:
        if self._replica is None or not self.decision().replica:
            return run(self._primary)
        try:
            return run(self._replica)
        except DBAPIError as exc:
            if not (database_unavailable(exc)
                    or getattr(exc.orig, "sqlstate", None) in _RECOVERY_CONFLICTS):
                raise
            self._switch(Decision(False, float("inf"), f"replica failed a read: "
                                                       f"{type(exc.orig).__name__}"))
        return run(self._primary)

    def _measure(self, now: float) -> Decision:
        assert self._replica is not None
        position = self._primary.read(_primary_position)
        self._samples.append((now, position))
        while self._samples and self._samples[0][0] < now - self.max_lag - 2 * self.check_every:
            self._samples.popleft()
        try:
            replayed = self._replica.read(_replayed_position)
        except DBAPIError as exc:
            if not database_unavailable(exc):
                raise
            return Decision(False, float("inf"), f"replica unreachable: {type(exc.orig).__name__}")
        if replayed is None:
            return Decision(False, float("inf"), "replica is not in recovery (promoted?)")
        lag = staleness(self._samples, replayed, now)
        if lag > self.max_lag:
            return Decision(False, lag, f"replica more than {self.max_lag:g} s behind")
        return Decision(True, lag, "replica fresh")

    def _switch(self, decision: Decision) -> None:
        before, self._decision = self._decision, decision
        if before.replica != decision.replica:
            log.warning("reads now go to the %s: %s", "replica" if decision.replica else
                        "primary", decision.why)


def _primary_position(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one())


def _replayed_position(conn: Connection) -> int | None:
    """None when the server is no standby: a promoted one still reports the position it
    replayed up to, so recovery is asked too."""
    row = conn.execute(text("SELECT pg_is_in_recovery(), "
                            "pg_last_wal_replay_lsn() - '0/0'::pg_lsn")).one()
    return int(row[1]) if row[0] and row[1] is not None else None
