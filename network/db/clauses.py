"""Small SQL building blocks shared by the set-based paths."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Connection, any_, bindparam
from sqlalchemy.sql.elements import ColumnElement


def one_of(conn: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL it is `= ANY(one array parameter)`: an IN list has a
    parameter per value, and for a 1,000-line batch rendering, sending and parsing those cost
    milliseconds of CPU on both sides; the array is one value and one cached statement."""
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)
