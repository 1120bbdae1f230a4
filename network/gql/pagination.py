"""Relay connections, capped and keyset-paged: a cursor is an opaque id, never an offset,
so a page stays correct while new entries arrive."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypeVar

from graphene import relay

from network.ledger.errors import InvalidInput

MAX_PAGE = 100
# Ids are BIGINT on PostgreSQL: a larger number from a caller would overflow in the database
# (an INTERNAL_ERROR) instead of failing as the caller's mistake.
MAX_KEY = 2**63 - 1
T = TypeVar("T")


class ForwardConnectionField(relay.ConnectionField):
    """A connection paged only forwards (`first`, `after`): keyset pages newest first. Relay's
    `last` and `before` are left out of the schema rather than accepted and ignored."""

    def __init__(self, type_: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(type_, *args, **kwargs)
        del self.args["last"], self.args["before"]


def parse_key(text: str) -> int | None:
    """A database id written in decimal (1 to MAX_KEY), or None: ASCII digits only, since int()
    would also take '-1', ' 7', '1_0' and other scripts' digits."""
    if not (text.isascii() and text.isdigit()):
        return None
    key = int(text)
    return key if 0 < key <= MAX_KEY else None


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
        prefix, _, text = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        prefix, text = "", ""
    key = parse_key(text) if prefix == kind else None
    if key is None:
        raise InvalidInput("after is not a cursor from this connection", field="after",
                           code="INVALID_CURSOR")
    return key


def split_page(rows: Sequence[T], size: int) -> tuple[list[T], bool]:
    """Callers fetch size + 1 rows; the extra one only says there is a next page."""
    return list(rows[:size]), len(rows) > size
