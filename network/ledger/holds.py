"""Holds: authorise points like a card payment, then capture all or part, or void.

Authorising moves the points from the member's lots into hold allocations (earliest expiry first),
so nothing else can spend them. Capture is final: it consumes what it takes, in the same lot
order, and gives the rest back; void or expiry gives everything back to the very lots it came from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from network import parties
from network.clock import as_utc
from network.db.engine import Database
from network.db.schema import hold_allocations, holds
from network.db.schema import lots as lots_table
from network.ledger import accounts, balances, journal, lots
from network.ledger.accounts import AccountKind
from network.ledger.errors import (
    CaptureExceedsHold,
    HoldExpired,
    HoldNotActive,
    HoldNotFound,
    InvalidInput,
)
from network.ledger.idempotent import run
from network.ledger.receipts import Receipt, check_points, check_reference
from network.ledger.rules import iso
from network.ledger.spending import take_spendable

DEFAULT_HOLD_TTL = timedelta(days=7)
MAX_HOLD_TTL = timedelta(days=31)


def authorize_hold(
    db: Database,
    *,
    scope: str,
    idempotency_key: str,
    partner_id: int,
    member_id: int,
    points: int,
    expires_at: datetime | None = None,
    reference: str | None = None,
    now: datetime | None = None,
) -> Receipt:
    check_points(points)
    check_reference(reference)
    params = {"partner": partner_id, "member": member_id, "points": points,
              "expires_at": expires_at, "reference": reference}

    def body(conn: Connection, at: datetime) -> Receipt:
        until = as_utc(expires_at) if expires_at is not None else at + DEFAULT_HOLD_TTL
        if not at < until <= at + MAX_HOLD_TTL:
            raise InvalidInput("a hold expires after now and within 31 days", field="expiresAt")
        parties.require(conn, partner_id, "partner", field="partnerId")
        return book_hold(conn, at, member_id=member_id, party_id=partner_id, points=points,
                         until=until, reference=reference)

    return run(db, scope=scope, key=idempotency_key, operation="hold", params=params, body=body,
               now=now)


def book_hold(conn: Connection, at: datetime, *, member_id: int, party_id: int, points: int,
              until: datetime, reference: str | None) -> Receipt:
    """Reserve points inside the caller's transaction: a partner's authorisation, or a gift
    waiting for its receiver's consent (party: the network). Expiry gives them back."""
    takes = take_spendable(conn, member_id, points, at)
    hold_id = conn.execute(insert(holds).values(
        member_id=member_id, party_id=party_id, points=points, captured=0,
        status="authorized", expires_at=until, reference=reference, created_at=at,
    ).returning(holds.c.id)).scalar_one()
    conn.execute(insert(hold_allocations), [
        {"hold_id": hold_id, "member_id": member_id, "lot_id": t.lot.id, "points": t.points}
        for t in takes
    ])
    entry_id = journal.book(
        conn, kind="hold", member_id=member_id, party_id=party_id, points=points,
        reference=reference, hold_id=hold_id, booked_at=at,
        lines=[accounts.wallet(member_id, -points), accounts.hold(member_id, points)],
    )
    row = balances.move(conn, member_id, at, balance=-points, held=points)
    return Receipt(entry_id=entry_id, kind="hold", member_id=member_id, points=points,
                   booked_at=iso(at), balance=row.balance, held=row.held, hold_id=hold_id,
                   debt=row.debt)


def allocations(conn: Connection, hold_id: int, member_id: int) -> list[lots.Take]:
    """What an open hold reserves, as takes in the order capture spends them."""
    return [lots.Take(lot, points)
            for _id, points, lot in _allocations(conn, hold_id, member_id)]


def close_allocations(conn: Connection, hold_id: int, *, status: str, captured: int,
                      at: datetime) -> None:
    """Mark a hold done after its allocations were consumed by the caller (a gift accepted)."""
    conn.execute(update(hold_allocations).where(hold_allocations.c.hold_id == hold_id)
                 .values(points=0))
    conn.execute(update(holds).where(holds.c.id == hold_id)
                 .values(status=status, captured=captured, closed_at=at))


def _open_hold(conn: Connection, hold_id: int, partner_id: int, at: datetime) -> Any:
    """Lock the member, then check the hold is this partner's and still open."""
    found = conn.execute(select(holds.c.member_id, holds.c.party_id)
                         .where(holds.c.id == hold_id)).first()
    if found is None or found.party_id != partner_id:
        raise HoldNotFound("no hold with this id for this partner", field="holdId")
    balances.lock(conn, found.member_id)
    hold = conn.execute(select(holds).where(holds.c.id == hold_id,
                                            holds.c.member_id == found.member_id)).one()
    if hold.status != "authorized":
        raise HoldNotActive(f"this hold is already {hold.status}", field="holdId")
    if as_utc(hold.expires_at) <= at:
        raise HoldExpired(f"this hold expired at {as_utc(hold.expires_at).isoformat()}",
                          field="holdId")
    return hold


def _allocations(conn: Connection, hold_id: int, member_id: int
                 ) -> list[tuple[int, int, lots.Lot]]:
    """(allocation id, points, lot) in the order capture spends them: earliest expiry first."""
    rows = conn.execute(
        select(hold_allocations.c.id, hold_allocations.c.points, lots_table.c.id,
               lots_table.c.issuer_party_id, lots_table.c.remaining, lots_table.c.vests_at,
               lots_table.c.expires_at)
        .join(lots_table, (lots_table.c.id == hold_allocations.c.lot_id)
              & (lots_table.c.member_id == hold_allocations.c.member_id))
        .where(hold_allocations.c.hold_id == hold_id, hold_allocations.c.member_id == member_id,
               hold_allocations.c.points > 0)
        .order_by(lots_table.c.expires_at.asc().nulls_last(), lots_table.c.id)
    ).all()
    return [(r[0], r[1], lots.Lot(*r[2:])) for r in rows]


def _close(conn: Connection, hold: Any, *, captured: int, entry_id: int, at: datetime,
           status: str) -> list[lots.Lot]:
    """Consume `captured` points of the hold and give the rest back to their lots."""
    left = captured
    takes: list[lots.Take] = []
    returns: list[tuple[int, int]] = []
    for _allocation_id, points, lot in _allocations(conn, hold.id, hold.member_id):
        used = min(points, left)
        left -= used
        if used:
            takes.append(lots.Take(lot, used))
        if points - used:
            returns.append((lot.id, points - used))
    lots.consume(conn, entry_id=entry_id, member_id=hold.member_id, takes=takes,
                 kind="redemption", sink_party_id=hold.party_id, booked_at=at)
    lots.give_back(conn, returns, member_id=hold.member_id)
    conn.execute(update(hold_allocations).where(hold_allocations.c.hold_id == hold.id,
                                                hold_allocations.c.member_id == hold.member_id)
                 .values(points=0))
    conn.execute(update(holds).where(holds.c.id == hold.id, holds.c.member_id == hold.member_id)
                 .values(status=status, captured=captured, closed_at=at))
    return [lots.Lot(lot_id, 0, n, at, None) for lot_id, n in returns]


def _after_release(conn: Connection, member_id: int, entry_id: int, returned: list[lots.Lot],
                   row: balances.BalanceRow, at: datetime) -> int:
    if row.debt and returned:
        ids = [lot.id for lot in returned]
        issuers = dict(conn.execute(select(lots_table.c.id, lots_table.c.issuer_party_id)
                                    .where(lots_table.c.id.in_(ids))).all())
        for lot in returned:
            lot.issuer_party_id = issuers[lot.id]
        return row.debt - lots.repay_debts(conn, member_id=member_id, entry_id=entry_id,
                                           credits=returned, now=at)
    return row.debt


def capture_hold(db: Database, *, scope: str, idempotency_key: str, partner_id: int,
                 hold_id: int, points: int | None = None, reference: str | None = None,
                 now: datetime | None = None) -> Receipt:
    if points is not None:
        check_points(points)
    check_reference(reference)
    params = {"partner": partner_id, "hold": hold_id, "points": points, "reference": reference}

    def body(conn: Connection, at: datetime) -> Receipt:
        hold = _open_hold(conn, hold_id, partner_id, at)
        amount = hold.points if points is None else points
        if amount > hold.points:
            raise CaptureExceedsHold(
                f"the hold reserves {hold.points} points; cannot capture {amount}",
                field="points")
        member_id = hold.member_id
        released = hold.points - amount
        entry_id = journal.book(
            conn, kind="capture", member_id=member_id, party_id=partner_id, points=amount,
            reference=reference or hold.reference, hold_id=hold_id, booked_at=at,
            details={"released": released} if released else None,
            lines=[accounts.hold(member_id, -hold.points),
                   accounts.party(AccountKind.REDEMPTION, partner_id, amount),
                   accounts.wallet(member_id, released)],
        )
        returned = _close(conn, hold, captured=amount, entry_id=entry_id, at=at, status="captured")
        row = balances.move(conn, member_id, at, balance=released, held=-hold.points)
        debt = _after_release(conn, member_id, entry_id, returned, row, at)
        return Receipt(entry_id=entry_id, kind="capture", member_id=member_id, points=amount,
                       booked_at=iso(at), balance=row.balance, held=row.held, hold_id=hold_id,
                       debt=debt)

    return run(db, scope=scope, key=idempotency_key, operation="capture", params=params,
               body=body, now=now)


def release(conn: Connection, hold: Any, at: datetime, *, kind: str, status: str) -> Receipt:
    """Give a whole hold back (void by the partner, or expiry); the member is locked already."""
    member_id = hold.member_id
    entry_id = journal.book(
        conn, kind=kind, member_id=member_id, party_id=hold.party_id, points=hold.points,
        reference=hold.reference, hold_id=hold.id, booked_at=at,
        lines=[accounts.hold(member_id, -hold.points), accounts.wallet(member_id, hold.points)],
    )
    returned = _close(conn, hold, captured=0, entry_id=entry_id, at=at, status=status)
    row = balances.move(conn, member_id, at, balance=hold.points, held=-hold.points)
    debt = _after_release(conn, member_id, entry_id, returned, row, at)
    return Receipt(entry_id=entry_id, kind=kind, member_id=member_id, points=hold.points,
                   booked_at=iso(at), balance=row.balance, held=row.held, hold_id=hold.id,
                   debt=debt)


def void_hold(db: Database, *, scope: str, idempotency_key: str, partner_id: int, hold_id: int,
              now: datetime | None = None) -> Receipt:
    params = {"partner": partner_id, "hold": hold_id}

    def body(conn: Connection, at: datetime) -> Receipt:
        hold = _open_hold(conn, hold_id, partner_id, at)
        return release(conn, hold, at, kind="void", status="voided")

    return run(db, scope=scope, key=idempotency_key, operation="void", params=params, body=body,
               now=now)
