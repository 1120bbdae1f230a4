"""A partner's view of the ledger: its own entries and holds, and nothing else (the partner
API's `transactions`, `node(id:)` and payloads read through here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from network.db.schema import holds, journal_entries

# The entry kinds a partner's own API shows.
PARTNER_KINDS = ("earn", "redeem", "reward", "hold", "capture", "void", "hold_expiry",
                 "reverse_earn", "reverse_redemption")


def entry(conn: Connection, partner_id: int, entry_id: int) -> Any | None:
    """The partner's own entry with this id, if it is of a kind the partner sees."""
    return conn.execute(select(journal_entries).where(
        journal_entries.c.id == entry_id,
        journal_entries.c.party_id == partner_id,
        journal_entries.c.kind.in_(PARTNER_KINDS),
    )).first()


def entries(conn: Connection, partner_id: int, *, limit: int, before_id: int | None,
            kinds: list[str], booked_from: datetime | None, booked_before: datetime | None,
            member_id: int | None) -> list[Any]:
    """Up to `limit` of the partner's entries, newest first (a page: older than `before_id`)."""
    query = select(journal_entries).where(
        journal_entries.c.party_id == partner_id,
        journal_entries.c.kind.in_(kinds or PARTNER_KINDS),
    )
    if before_id is not None:
        query = query.where(journal_entries.c.id < before_id)
    if booked_from is not None:
        query = query.where(journal_entries.c.booked_at >= booked_from)
    if booked_before is not None:
        query = query.where(journal_entries.c.booked_at < booked_before)
    if member_id is not None:
        query = query.where(journal_entries.c.member_id == member_id)
    return list(conn.execute(query.order_by(journal_entries.c.id.desc()).limit(limit)))


def hold(conn: Connection, partner_id: int, hold_id: int, member_id: int | None = None
         ) -> Any | None:
    """The partner's own hold with this id; `member_id`, when the caller knows it (a payload
    right after the ledger answered), routes the read to the member's shard (on Citus)."""
    query = select(holds).where(holds.c.id == hold_id, holds.c.party_id == partner_id)
    if member_id is not None:
        query = query.where(holds.c.member_id == member_id)
    return conn.execute(query).first()
