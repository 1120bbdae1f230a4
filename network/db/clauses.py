"""Small SQL building blocks shared by the set-based paths."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Connection, any_, bindparam, literal_column
from sqlalchemy.sql.elements import ColumnElement

_CODE = re.compile(r"[a-z_]+")


def one_of(conn: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL it is `= ANY(one array parameter)`: an IN list has a
    parameter per value, and for a 1,000-line batch rendering, sending and parsing those cost
    milliseconds of CPU on both sides; the array is one value and one cached statement."""
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def in_codes(column: Any, codes: Iterable[str]) -> ColumnElement[bool]:
    """`column IN ('earn', 'bonus')` with the codes written into the SQL, for the fixed lists of
    kinds in hot reads. An IN of bound values is an expanding parameter, which SQLAlchemy
    renders into the statement again on every execution (its post-compile step: about a tenth
    of the wallet read's client CPU with six of them); written-in codes are compiled once with
    the statement. Codes from the code only, never input: anything but [a-z_]+ is refused."""
    codes = list(codes)
    for code in codes:
        if not _CODE.fullmatch(code):
            raise ValueError(f"not a code: {code!r}")
    return column.in_([literal_column(f"'{code}'") for code in codes])
