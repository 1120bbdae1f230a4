"""Count what a piece of code sends to the database: the statements' text, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from network.db.engine import Database


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every statement the engine's connections execute inside the block (an executemany is
    one); statements sent by `Database.pg_statement` bypass the engine and are not seen."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
