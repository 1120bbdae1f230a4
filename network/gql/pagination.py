"""Relay connections, capped and keyset-paged: a cursor is an opaque id, never an offset,
so a page stays correct while new entries arrive."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from network.ledger.errors import InvalidInput

MAX_PAGE = 100
T = TypeVar("T")


def page_size(first: int | None, default: int = 20) -> int:
    if first is None:
        return default
    if first < 1 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", field="first",
                           code="INVALID_PAGE_SIZE")
    return first


def encode_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(cursor: str | None, kind: str) -> int | None:
    if cursor is None:
        return None
    try:
        prefix, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix != kind:
            raise ValueError(prefix)
        return int(key)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("after is not a cursor from this connection", field="after",
                           code="INVALID_CURSOR") from exc


def split_page(rows: Sequence[T], size: int) -> tuple[list[T], bool]:
    """Callers fetch size + 1 rows; the extra one only says there is a next page."""
    return list(rows[:size]), len(rows) > size
