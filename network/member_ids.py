"""Which members exist, by id or by card number: one query however many are asked.

A room of its own, below both `network.members` (enrolment records its `enrolled` fact through
the programme's inbox, so members sits above the programme) and the programme's segments (a
static segment's CSV names cards): with these reads in `members`, the two imported each other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, select

from network.db.clauses import one_of
from network.db.schema import members

# An erased member's card number (network/privacy.py): no card lookup matches it, and the
# ledger's earn refuses to credit its member (`erased`).
ERASED_CARD_PREFIX = "erased-"


# Unguessable per process: a value a partner sends cannot be mistaken for `ByCard.marker`.
_MARK = secrets.token_hex(8)


@dataclass(frozen=True)
class ByCard:
    """A member named by a normalized card number not yet looked up: a single earn on
    PostgreSQL looks it up in its one statement (network/ledger/pg_writer.py), every other way
    with `ids_by_card` before it needs the id (network/ledger/stores.py)."""

    number: str

    @property
    def marker(self) -> str:
        """Stands for the member id in an idempotency digest's text until the id is known
        (network.idempotency.request_hash_around)."""
        return f"\x00member-of-card:{_MARK}\x00"


def with_member(value: Any, card: ByCard, member_id: int) -> Any:
    """`value` (a request's parameters: dicts, lists, scalars) with `member_id` wherever it
    holds `card`."""
    if value is card:
        return member_id
    if isinstance(value, dict):
        return {k: with_member(v, card, member_id) for k, v in value.items()}
    if isinstance(value, list):
        return [with_member(v, card, member_id) for v in value]
    return value


def known_ids(conn: Connection, ids: set[int]) -> set[int]:
    """Which of these member ids exist (one query, however many)."""
    if not ids:
        return set()
    return set(conn.execute(select(members.c.id).where(one_of(conn, members.c.id, ids)))
               .scalars())


def ids_by_card(conn: Connection, card_numbers: set[str]) -> dict[str, int]:
    """Member ids by normalized card number, for the numbers that name one (one query)."""
    if not card_numbers:
        return {}
    rows = conn.execute(select(members.c.card_number, members.c.id)
                        .where(one_of(conn, members.c.card_number, card_numbers)))
    return {row.card_number: row.id for row in rows}


def erased(member_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether the member `member_id` names was erased: a primary-key probe the earn's balance
    lock adds (network/ledger/stores.py), so an erased member is MEMBER_NOT_FOUND to every
    credit however it is named (by id, by card, in a batch) and nothing is booked."""
    return exists().where(members.c.id == member_id,
                          members.c.card_number.startswith(ERASED_CARD_PREFIX, autoescape=True))
