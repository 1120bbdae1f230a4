"""Expiry: lots whose time has come, and holds nobody captured. Safe to run from cron at any time.

Each member is expired in a transaction of its own, so the run never holds many locks and a
crash halfway loses nothing: the next run picks up what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, union

from network import parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.db.schema import holds
from network.db.schema import lots as lots_table
from network.ledger import accounts, balances, journal, lots
from network.ledger.accounts import AccountKind
from network.ledger.holds import release


@dataclass
class ExpiryReport:
    members: int = 0
    lots: int = 0
    points: int = 0
    holds: int = 0


def due_members(conn: Connection, now: datetime, limit: int) -> list[int]:
    lot_members = select(lots_table.c.member_id).where(
        lots_table.c.remaining > 0, lots_table.c.expires_at.is_not(None),
        lots_table.c.expires_at <= now)
    hold_members = select(holds.c.member_id).where(holds.c.status == "authorized",
                                                   holds.c.expires_at <= now)
    query = union(lot_members, hold_members).limit(limit)
    return [row[0] for row in conn.execute(query)]


def expire_member(conn: Connection, member_id: int, now: datetime) -> ExpiryReport:
    """One member's expired holds and lots; returns what it did (a retry starts afresh)."""
    report = ExpiryReport(members=1)
    balances.lock(conn, member_id)
    for hold in conn.execute(select(holds).where(
            holds.c.member_id == member_id, holds.c.status == "authorized",
            holds.c.expires_at <= now)).all():
        release(conn, hold, now, kind="hold_expiry", status="expired")
        report.holds += 1
    due = lots.expired(conn, member_id, now)
    points = sum(lot.remaining for lot in due)
    if not points:
        return report
    network_id = parties.network_party_id(conn)
    entry_id = journal.book(
        conn, kind="expire", member_id=member_id, party_id=network_id, points=points,
        booked_at=now,
        lines=[accounts.wallet(member_id, -points),
               accounts.party(AccountKind.EXPIRY, network_id, points)],
    )
    takes = [lots.Take(lot, lot.remaining) for lot in due]
    lots.take(conn, takes, member_id=member_id)
    lots.consume(conn, entry_id=entry_id, member_id=member_id, takes=takes, kind="expiry",
                 sink_party_id=network_id, booked_at=now)
    balances.move(conn, member_id, now, balance=-points)
    report.lots += len(due)
    report.points += points
    return report


def expire_due(db: Database, *, now: datetime | None = None, batch: int = 500) -> ExpiryReport:
    at = as_utc(now) if now is not None else utcnow()  # SQLite compares wall clocks: UTC only
    report = ExpiryReport()
    while True:
        member_ids = db.read(due_members, at, batch)
        if not member_ids:
            return report
        for member_id in member_ids:
            done = db.write(expire_member, member_id, at)
            report.members += 1
            report.lots += done.lots
            report.points += done.points
            report.holds += done.holds
