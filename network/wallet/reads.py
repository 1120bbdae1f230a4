"""The read the wallet's pages need beyond `Database.read`: several tables as of one instant.

PostgreSQL's default READ COMMITTED gives every statement its own snapshot, so a balance and a
history page read one after the other could disagree while a partner writes. A REPEATABLE READ, READ
ONLY transaction reads them all as of its first statement; psycopg puts both options into the BEGIN
it sends anyway, so this costs no extra round trip. SQLite's read transactions are snapshots
already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from network.db.engine import Database

T = TypeVar("T")


def snapshot(db: Database, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
        with conn.begin():
            return fn(conn, *args, **kwargs)
