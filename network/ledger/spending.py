"""Debiting members: redeem at a partner, donate to a charity, give a redemption back, transfer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from network import parties
from network.db.engine import Database
from network.db.schema import consumptions
from network.ledger import accounts, balances, journal, lots
from network.ledger.accounts import AccountKind
from network.ledger.earning import _iso, load_original, reversed_so_far
from network.ledger.errors import (
    AlreadyReversed,
    InsufficientPoints,
    InvalidInput,
    ReversalExceedsOriginal,
    TransfersDisabled,
)
from network.ledger.receipts import Receipt, check_points, check_reference, run


def take_spendable(conn: Connection, member_id: int, points: int, at: datetime) -> list[lots.Take]:
    """Lock the member, then pick lots earliest-expiry-first, or refuse without writing."""
    balances.lock(conn, member_id)
    available = lots.spendable(conn, member_id, at, up_to=points)
    spendable = sum(lot.remaining for lot in available)
    if spendable < points:
        raise InsufficientPoints(
            f"the member has {spendable} spendable points; {points} were asked for",
            field="points")
    takes = lots.fifo(available, points)
    lots.take(conn, takes)
    return takes


def _debit(db: Database, *, scope: str, idempotency_key: str, member_id: int, points: int,
           sink_id: int, sink_kinds: tuple[str, ...], entry_kind: str, consumption_kind: str,
           account: AccountKind, reference: str | None, now: datetime | None) -> Receipt:
    check_points(points)
    check_reference(reference)
    params = {"member": member_id, "points": points, "sink": sink_id, "reference": reference}

    def body(conn: Connection, at: datetime) -> Receipt:
        field = "charityId" if sink_kinds == ("charity",) else "partnerId"
        parties.require(conn, sink_id, *sink_kinds, field=field)
        takes = take_spendable(conn, member_id, points, at)
        entry_id = journal.book(
            conn, kind=entry_kind, member_id=member_id, party_id=sink_id, points=points,
            reference=reference, booked_at=at,
            lines=[accounts.wallet(member_id, -points), accounts.party(account, sink_id, points)],
        )
        lots.consume(conn, entry_id=entry_id, member_id=member_id, takes=takes,
                     kind=consumption_kind, sink_party_id=sink_id, booked_at=at)
        row = balances.move(conn, member_id, at, balance=-points)
        return Receipt(entry_id=entry_id, kind=entry_kind, member_id=member_id, points=points,
                       booked_at=_iso(at), balance=row.balance, held=row.held, debt=row.debt)

    return run(db, scope=scope, key=idempotency_key, operation=entry_kind, params=params,
               body=body, now=now)


def redeem(db: Database, *, scope: str, idempotency_key: str, partner_id: int, member_id: int,
           points: int, reference: str | None = None, now: datetime | None = None) -> Receipt:
    """Take points as payment at once."""
    return _debit(db, scope=scope, idempotency_key=idempotency_key, member_id=member_id,
                  points=points, sink_id=partner_id, sink_kinds=("partner",),
                  entry_kind="redeem", consumption_kind="redemption",
                  account=AccountKind.REDEMPTION, reference=reference, now=now)


def donate(db: Database, *, scope: str, idempotency_key: str, member_id: int, charity_id: int,
           points: int, reference: str | None = None, now: datetime | None = None) -> Receipt:
    return _debit(db, scope=scope, idempotency_key=idempotency_key, member_id=member_id,
                  points=points, sink_id=charity_id, sink_kinds=("charity",),
                  entry_kind="donate", consumption_kind="donation",
                  account=AccountKind.DONATION, reference=reference, now=now)


def reverse_redemption(
    db: Database,
    *,
    scope: str,
    idempotency_key: str,
    partner_id: int,
    entry_id: int,
    points: int | None = None,
    reference: str | None = None,
    now: datetime | None = None,
) -> Receipt:
    """Give back points a partner took (a redeem or a capture), fully or partly.

    The points return to the very lots they came from, so they keep their issuer and expiry;
    the last consumed come back first. Each is a negative consumption row, which settlement
    reads as an adjustment in the period it is booked.
    """
    if points is not None:
        check_points(points)
    check_reference(reference)
    params = {"partner": partner_id, "entry": entry_id, "points": points, "reference": reference}

    def body(conn: Connection, at: datetime) -> Receipt:
        original = load_original(conn, entry_id, partner_id, ("redeem", "capture"), "redemption")
        member_id = original.member_id
        row = balances.lock(conn, member_id)
        left = original.points - reversed_so_far(conn, entry_id, "reverse_redemption")
        if left == 0:
            raise AlreadyReversed("this redemption is already fully reversed",
                                  field="entryId")
        amount = left if points is None else points
        if amount > left:
            raise ReversalExceedsOriginal(
                f"only {left} points of this redemption are left to give back, not {amount}",
                field="points")
        new_id = journal.book(
            conn, kind="reverse_redemption", member_id=member_id, party_id=partner_id,
            points=amount, reference=reference, reverses_entry_id=entry_id, booked_at=at,
            lines=[accounts.party(AccountKind.REDEMPTION, partner_id, -amount),
                   accounts.wallet(member_id, amount)],
        )
        undone = (
            select(consumptions.c.reversal_of_id, func.sum(-consumptions.c.points).label("n"))
            .where(consumptions.c.reversal_of_id.is_not(None))
            .group_by(consumptions.c.reversal_of_id).subquery()
        )
        consumed = conn.execute(
            select(consumptions.c.id, consumptions.c.lot_id, consumptions.c.issuer_party_id,
                   consumptions.c.points - func.coalesce(undone.c.n, 0))
            .outerjoin(undone, undone.c.reversal_of_id == consumptions.c.id)
            .where(consumptions.c.entry_id == entry_id, consumptions.c.kind == "redemption",
                   consumptions.c.points > 0)
            .order_by(consumptions.c.id.desc())
        ).all()
        returns: list[tuple[int, int]] = []
        restored: list[lots.Lot] = []
        rows = []
        need = amount
        for consumption_id, lot_id, issuer, open_points in consumed:
            if need == 0:
                break
            n = min(need, int(open_points))
            if n <= 0:
                continue
            need -= n
            returns.append((lot_id, n))
            restored.append(lots.Lot(lot_id, issuer, n, at, None))
            rows.append({"entry_id": new_id, "member_id": member_id, "lot_id": lot_id,
                         "issuer_party_id": issuer, "kind": "redemption",
                         "sink_party_id": partner_id, "points": -n,
                         "reversal_of_id": consumption_id, "debt_lot_id": None,
                         "booked_at": at})
        if need:
            raise AssertionError(f"redemption {entry_id} consumptions short by {need}")
        lots.give_back(conn, returns)
        conn.execute(consumptions.insert(), rows)
        row = balances.move(conn, member_id, at, balance=amount)
        debt = row.debt
        if debt:
            debt -= lots.repay_debts(conn, member_id=member_id, entry_id=new_id,
                                     credits=restored, now=at)
        return Receipt(entry_id=new_id, kind="reverse_redemption", member_id=member_id,
                       points=amount, booked_at=_iso(at), balance=row.balance, held=row.held,
                       debt=debt)

    return run(db, scope=scope, key=idempotency_key, operation="reverse_redemption",
               params=params, body=body, now=now)


def transfer(
    db: Database,
    *,
    scope: str,
    idempotency_key: str,
    from_member_id: int,
    to_member_id: int,
    points: int,
    allowed: bool,
    now: datetime | None = None,
) -> Receipt:
    """Give points to another member, when the network's rules allow it.

    The points keep their provenance: each lot taken from the sender becomes a lot of the
    receiver with the same issuer, vesting and expiry. Two entries through the network's
    transfer account, so each member's history shows their side.
    """
    if not allowed:
        raise TransfersDisabled("this network does not allow transfers between members")
    check_points(points)
    if from_member_id == to_member_id:
        raise InvalidInput("a member cannot transfer points to themselves", field="toMemberId")
    params = {"from": from_member_id, "to": to_member_id, "points": points}

    def body(conn: Connection, at: datetime) -> Receipt:
        balances.lock_many(conn, [from_member_id, to_member_id])
        takes = take_spendable(conn, from_member_id, points, at)
        network_id = parties.network_party_id(conn)
        out_id = journal.book(
            conn, kind="transfer_out", member_id=from_member_id, points=points, booked_at=at,
            details={"to_member_id": to_member_id},
            lines=[accounts.wallet(from_member_id, -points),
                   accounts.party(AccountKind.TRANSFER, network_id, points)],
        )
        lots.consume(conn, entry_id=out_id, member_id=from_member_id, takes=takes,
                     kind="transfer", sink_party_id=None, booked_at=at)
        in_id = journal.book(
            conn, kind="transfer_in", member_id=to_member_id, points=points, booked_at=at,
            details={"from_member_id": from_member_id},
            lines=[accounts.party(AccountKind.TRANSFER, network_id, -points),
                   accounts.wallet(to_member_id, points)],
        )
        received = [
            lots.create(conn, member_id=to_member_id, entry_id=in_id,
                        issuer_party_id=t.lot.issuer_party_id, points=t.points,
                        vests_at=t.lot.vests_at, expires_at=t.lot.expires_at, now=at,
                        source_lot_id=t.lot.id)
            for t in takes
        ]
        sender = balances.move(conn, from_member_id, at, balance=-points)
        receiver = balances.move(conn, to_member_id, at, balance=points)
        if receiver.debt:
            lots.repay_debts(conn, member_id=to_member_id, entry_id=in_id, credits=received,
                             now=at)
        return Receipt(entry_id=out_id, kind="transfer_out", member_id=from_member_id,
                       points=points, booked_at=_iso(at), balance=sender.balance,
                       held=sender.held, debt=sender.debt)

    return run(db, scope=scope, key=idempotency_key, operation="transfer", params=params,
               body=body, now=now)
