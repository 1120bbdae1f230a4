"""Two ways of reading that the wallet's hot paths need, beyond `Database.read`.

`snapshot`: several tables as of one instant. PostgreSQL's default READ COMMITTED gives every
statement its own snapshot, so a balance and a history page read one after the other could
disagree while a partner writes. A REPEATABLE READ, READ ONLY transaction reads them all as of
its first statement; psycopg puts both options into the BEGIN it sends anyway, so this costs no
extra round trip. SQLite's read transactions are snapshots already.

`single`: one statement needs no transaction around it; on PostgreSQL autocommit saves the
BEGIN and COMMIT round trips (used to look up a session on every request). SQLite keeps the
engine's own transaction handling: switching its driver's isolation mode would outlive this
connection's checkout.
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


def single(db: Database, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if db.dialect != "postgresql":
        return db.read(fn, *args, **kwargs)
    with db.engine.connect() as conn:
        return fn(conn.execution_options(isolation_level="AUTOCOMMIT"), *args, **kwargs)
