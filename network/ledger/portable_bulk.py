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
from network.ledger.rules import Booking, issued_by, receipt_of


def _insert_returning_ids(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(statement, rows).scalars())


def book(conn: Connection, *, issuer_id: int, scope: str, bookings: list[Booking],
         at: datetime, booked_at: str) -> list[tuple[int, int]]:
    """Write every booking; returns (entry id, lot id) per booking, in order (the lot of the
    earning partner, the first of a booking with programme parts: one lot per issuing party)."""
    issued = [issued_by(issuer_id, b.line.points, b.parts) for b in bookings]
    entry_ids = _insert_returning_ids(conn, journal_entries, [
        {"kind": b.line.kind, "member_id": b.line.member_id, "party_id": issuer_id,
         "points": b.points, "reference": b.line.reference, "reverses_entry_id": None,
         "hold_id": None, "details": b.line.details, "booked_at": at}
        for b in bookings])
    conn.execute(insert(postings), [
        posting
        for b, parties, entry_id in zip(bookings, issued, entry_ids, strict=True)
        for posting in (
            *({"entry_id": entry_id, "account_kind": AccountKind.ISSUANCE.value,
               "member_id": b.line.member_id, "party_id": party, "points": -points}
              for party, points in parties.items()),
            {"entry_id": entry_id, "account_kind": AccountKind.MEMBER_WALLET.value,
             "member_id": b.line.member_id, "party_id": None, "points": b.points},
        )])
    lot_ids = iter(_insert_returning_ids(conn, lots, [
        {"member_id": b.line.member_id, "entry_id": entry_id, "issuer_party_id": party,
         "points": points, "remaining": points, "vests_at": b.vests_at,
         "expires_at": b.expires_at, "source_lot_id": None, "created_at": at}
        for b, parties, entry_id in zip(bookings, issued, entry_ids, strict=True)
        for party, points in parties.items()]))
    first_lots = [[next(lot_ids) for _ in parties][0] for parties in issued]
    summary.add(conn, [summary.Entry(b.line.member_id, issuer_id, b.line.kind, b.points, at)
                       for b in bookings])
    deltas: dict[int, int] = {}
    for b in bookings:
        deltas[b.line.member_id] = deltas.get(b.line.member_id, 0) + b.points
    conn.execute(
        update(member_balances).where(member_balances.c.member_id == bindparam("m"))
        .values(balance=member_balances.c.balance + bindparam("delta"), updated_at=at),
        [{"m": m, "delta": delta} for m, delta in sorted(deltas.items())])
    ids = list(zip(entry_ids, first_lots, strict=True))
    conn.execute(insert(idempotency_keys), [
        {"scope": scope, "key": b.line.key, "request_hash": b.digest,
         "response": receipt_of(b, entry_id, lot_id, booked_at, issuer_id).as_dict(),
         "created_at": at}
        for b, (entry_id, lot_id) in zip(bookings, ids, strict=True)])
    return ids
