"""The read the wallet's pages need beyond `Database.read`: several tables as of one instant.

PostgreSQL's default READ COMMITTED gives every statement its own snapshot, so a balance and a
history page read one after the other could disagree while a partner writes. A REPEATABLE READ, READ
ONLY transaction reads them all as of its first statement; psycopg puts both options into the BEGIN
it sends anyway, so this costs no extra round trip. SQLite's read transactions are snapshots
already. Given a `ReadDatabase`, the snapshot is taken on the read replica when it is fresh
enough (network/db/read_database.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from network.db.engine import Database
from network.db.read_database import ReadDatabase, snapshot_on

T = TypeVar("T")


def snapshot(db: Database | ReadDatabase, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if isinstance(db, ReadDatabase):
        return db.snapshot(fn, *args, **kwargs)
    return snapshot_on(db, fn, *args, **kwargs)
