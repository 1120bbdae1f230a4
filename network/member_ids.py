"""Which members exist, by id or by card number: one query however many are asked.

A room of its own, below both `network.members` (enrolment records its `enrolled` fact through
the programme's inbox, so members sits above the programme) and the programme's segments (a
static segment's CSV names cards): with these reads in `members`, the two imported each other.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from network.db.clauses import one_of
from network.db.schema import members


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
