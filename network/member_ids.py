"""Which members exist, by id or by card number: one query however many are asked.

A room of its own, below both `network.members` (enrolment records its `enrolled` fact through
the programme's inbox, so members sits above the programme) and the programme's segments (a
static segment's CSV names cards): with these reads in `members`, the two imported each other.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, exists, select

from network.db.clauses import one_of
from network.db.schema import members

# An erased member's card number (network/privacy.py): no card lookup matches it, and the
# ledger's earn refuses to credit its member (`erased`).
ERASED_CARD_PREFIX = "erased-"


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
