"""The earn's set of writes where there is no one-statement form (SQLite: tests and the demo):
the same rows as `pg_writer.book`, a statement per table, in the caller's transaction, for
every earn the writer books in bulk, a single earn too (network/ledger/stores.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from network.db.schema import idempotency_keys, journal_entries, lots, member_balances, postings
from network.ledger import summary
from network.ledger.accounts import AccountKind
from network.ledger.rules import Booking, receipt_of


def _insert_returning_ids(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(statement, rows).scalars())


def book(conn: Connection, *, issuer_id: int, scope: str, bookings: list[Booking],
         at: datetime, booked_at: str) -> list[tuple[int, int]]:
    """Write every booking; returns (entry id, lot id) per booking, in order."""
    lines = [b.line for b in bookings]
    entry_ids = _insert_returning_ids(conn, journal_entries, [
        {"kind": line.kind, "member_id": line.member_id, "party_id": issuer_id,
         "points": line.points, "reference": line.reference, "reverses_entry_id": None,
         "hold_id": None, "details": line.details, "booked_at": at}
        for line in lines])
    conn.execute(insert(postings), [
        posting
        for line, entry_id in zip(lines, entry_ids, strict=True)
        for posting in (
            {"entry_id": entry_id, "account_kind": AccountKind.ISSUANCE.value,
             "member_id": line.member_id, "party_id": issuer_id, "points": -line.points},
            {"entry_id": entry_id, "account_kind": AccountKind.MEMBER_WALLET.value,
             "member_id": line.member_id, "party_id": None, "points": line.points},
        )])
    lot_ids = _insert_returning_ids(conn, lots, [
        {"member_id": b.line.member_id, "entry_id": entry_id, "issuer_party_id": issuer_id,
         "points": b.line.points, "remaining": b.line.points, "vests_at": b.vests_at,
         "expires_at": b.expires_at, "source_lot_id": None, "created_at": at}
        for b, entry_id in zip(bookings, entry_ids, strict=True)])
    summary.add(conn, [summary.Entry(line.member_id, issuer_id, line.kind, line.points, at)
                       for line in lines])
    deltas: dict[int, int] = {}
    for line in lines:
        deltas[line.member_id] = deltas.get(line.member_id, 0) + line.points
    conn.execute(
        update(member_balances).where(member_balances.c.member_id == bindparam("m"))
        .values(balance=member_balances.c.balance + bindparam("delta"), updated_at=at),
        [{"m": m, "delta": delta} for m, delta in sorted(deltas.items())])
    ids = list(zip(entry_ids, lot_ids, strict=True))
    conn.execute(insert(idempotency_keys), [
        {"scope": scope, "key": b.line.key, "request_hash": b.digest,
         "response": receipt_of(b, entry_id, lot_id, booked_at).as_dict(), "created_at": at}
        for b, (entry_id, lot_id) in zip(bookings, ids, strict=True)])
    return ids


