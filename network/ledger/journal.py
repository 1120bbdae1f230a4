"""Writing journal entries: one entry, its postings (summing to zero), nothing ever updated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from network.db.schema import journal_entries, postings
from network.ledger import summary
from network.ledger.accounts import Posting

# Built once (see network/ledger/balances.py for why).
_ENTRY = insert(journal_entries).returning(journal_entries.c.id)
_POSTINGS = insert(postings)


class UnbalancedEntry(AssertionError):
    """A programming error: the code tried to book postings that do not sum to zero."""


def book(
    conn: Connection,
    *,
    kind: str,
    member_id: int,
    points: int,
    lines: Sequence[Posting],
    booked_at: datetime,
    party_id: int | None = None,
    reference: str | None = None,
    reverses_entry_id: int | None = None,
    hold_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    lines = [line for line in lines if line.points != 0]
    if sum(line.points for line in lines) != 0 or not lines:
        raise UnbalancedEntry(f"{kind} entry postings do not sum to zero: {lines}")
    if any(line.member_id not in (None, member_id) for line in lines):
        raise UnbalancedEntry(f"{kind} entry touches another member's account: {lines}")
    entry_id = conn.execute(_ENTRY, {
        "kind": kind, "member_id": member_id, "party_id": party_id, "points": points,
        "reference": reference, "reverses_entry_id": reverses_entry_id, "hold_id": hold_id,
        "details": details, "booked_at": booked_at,
    }).scalar_one()
    conn.execute(_POSTINGS, [
        {"entry_id": entry_id, "account_kind": line.kind.value, "member_id": member_id,
         "party_id": line.party_id, "points": line.points}
        for line in lines
    ])
    summary.add(conn, [summary.Entry(member_id, party_id, kind, points, booked_at)])
    return entry_id


def entry_reference(conn: Connection, entry_id: int, member_id: int) -> str | None:
    """The reference an entry was booked under (a capture's or void's may be its hold's)."""
    return conn.execute(select(journal_entries.c.reference)
                        .where(journal_entries.c.id == entry_id,
                               journal_entries.c.member_id == member_id)).scalar_one()
