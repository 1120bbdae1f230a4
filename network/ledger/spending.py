"""Debiting members: redeem at a partner, donate to a charity, transfer (a redemption is given
back in reversals.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from network import idempotency, member_blocks, parties
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.ledger import accounts, balances, journal, lots, observers
from network.ledger.accounts import AccountKind
from network.ledger.errors import (
    InsufficientPoints,
    InvalidInput,
    MemberBlocked,
    TransfersDisabled,
)
from network.ledger.idempotent import run
from network.ledger.receipts import Receipt, check_points, check_reference
from network.ledger.rules import fifo, iso


def take_spendable(conn: Connection, member_id: int, points: int, at: datetime) -> list[lots.Take]:
    """Lock the member, then pick lots earliest-expiry-first, or refuse without writing.
    A blocked member's points stay where they are (checked under the lock, so a block that
    commits first is never overtaken by a spend that started before it)."""
    balances.lock(conn, member_id)
    if member_blocks.is_blocked(conn, member_id):
        raise MemberBlocked("an operator blocked this member: their points cannot be spent "
                            "until the network unblocks them", field="memberId")
    available = lots.spendable(conn, member_id, at, up_to=points)
    spendable = sum(lot.remaining for lot in available)
    if spendable < points:
        raise InsufficientPoints(
            f"the member has {spendable} spendable points; {points} were asked for",
            field="points")
    takes = fifo(available, points)
    lots.take(conn, takes, member_id=member_id)
    return takes


def book_debit(conn: Connection, at: datetime, *, member_id: int, points: int, sink_id: int,
               sink_kinds: tuple[str, ...], entry_kind: str, consumption_kind: str,
               account: AccountKind, reference: str | None = None,
               details: dict[str, object] | None = None) -> Receipt:
    """The one debit path inside a caller's transaction: redeem, donate, and whatever else spends
    points at a party (a lottery entry, a reward bought: its use case takes stock and a code in
    the same transaction) books it so, and settlement reads its consumptions."""
    field = "charityId" if sink_kinds == ("charity",) else "partnerId"
    parties.require(conn, sink_id, *sink_kinds, field=field)
    takes = take_spendable(conn, member_id, points, at)
    return debit_taken(conn, at, member_id=member_id, takes=takes, sink_id=sink_id,
                       entry_kind=entry_kind, consumption_kind=consumption_kind,
                       account=account, reference=reference, details=details)


def debit_taken(conn: Connection, at: datetime, *, member_id: int, takes: list[lots.Take],
                sink_id: int, entry_kind: str, consumption_kind: str, account: AccountKind,
                reference: str | None = None,
                details: dict[str, object] | None = None) -> Receipt:
    """The debit's entry, consumptions and balance for points already taken from these lots
    (`lots.take`): `book_debit` after its FIFO pick, and a campaign's reward, which spends
    exactly the lots its earn just created (network/programme/reward_grants.py)."""
    points = sum(t.points for t in takes)
    entry_id = journal.book(
        conn, kind=entry_kind, member_id=member_id, party_id=sink_id, points=points,
        reference=reference, booked_at=at, details=details,
        lines=[accounts.wallet(member_id, -points), accounts.party(account, sink_id, points)],
    )
    lots.consume(conn, entry_id=entry_id, member_id=member_id, takes=takes,
                 kind=consumption_kind, sink_party_id=sink_id, booked_at=at)
    row = balances.move(conn, member_id, at, balance=-points)
    return Receipt(entry_id=entry_id, kind=entry_kind, member_id=member_id, points=points,
                   booked_at=iso(at), balance=row.balance, held=row.held, debt=row.debt)


def _debit(db: Database, *, scope: str, idempotency_key: str, member_id: int, points: int,
           sink_id: int, sink_kinds: tuple[str, ...], entry_kind: str, consumption_kind: str,
           account: AccountKind, reference: str | None, now: datetime | None) -> Receipt:
    check_points(points)
    check_reference(reference)
    params = {"member": member_id, "points": points, "sink": sink_id, "reference": reference}

    fast = db.earn_store.debit_transaction
    if fast is not None and sink_kinds in (("partner",), ("charity",)):
        idempotency.validate_key(idempotency_key)
        at = as_utc(now) if now is not None else utcnow()
        # Whoever observes this debit (a partner's webhook) writes in its transaction, which
        # `run` below gives it: the one call checks that nobody does (observers.py).
        guard, guard_params = observers.earn_guard(scope, entry_kind)
        # The debit alone: its one statement is its own transaction (autocommit).
        receipt = fast(lambda body: body(db.pg_statement), scope=scope, key=idempotency_key,
                       digest=idempotency.request_hash(entry_kind, params), kind=entry_kind,
                       consumption_kind=consumption_kind, account=account.value,
                       sink_id=sink_id, sink_kind=sink_kinds[0], member_id=member_id,
                       points=points, reference=reference, at=at, booked_at=iso(at),
                       guard=guard, guard_params=guard_params)
        if receipt is not None:
            return receipt

    def body(conn: Connection, at: datetime) -> Receipt:
        return book_debit(conn, at, member_id=member_id, points=points, sink_id=sink_id,
                          sink_kinds=sink_kinds, entry_kind=entry_kind,
                          consumption_kind=consumption_kind, account=account,
                          reference=reference)

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
        return book_transfer(conn, at, from_member_id=from_member_id,
                             to_member_id=to_member_id, takes=takes)

    return run(db, scope=scope, key=idempotency_key, operation="transfer", params=params,
               body=body, now=now)


def book_transfer(conn: Connection, at: datetime, *, from_member_id: int, to_member_id: int,
                  takes: list[lots.Take], from_hold: bool = False,
                  details: dict[str, object] | None = None) -> Receipt:
    """Move points already taken from the sender's lots to the receiver, inside the caller's
    transaction (both members locked): each take becomes a receiver's lot with the same issuer,
    vesting and expiry. `from_hold`: the takes were reserved by a hold (a gift waiting for its
    receiver's consent), so the sender's side leaves the hold account, not the wallet.
    """
    points = sum(t.points for t in takes)
    network_id = parties.network_party_id(conn)
    source = accounts.hold(from_member_id, -points) if from_hold else \
        accounts.wallet(from_member_id, -points)
    # A gift out of a hold has left the wallet already (the hold entry), so it has a kind of its
    # own: the wallet's history reads it as moving nothing there.
    out_kind = "gift_out" if from_hold else "transfer_out"
    out_id = journal.book(
        conn, kind=out_kind, member_id=from_member_id, points=points, booked_at=at,
        details={"to_member_id": to_member_id, **(details or {})},
        lines=[source, accounts.party(AccountKind.TRANSFER, network_id, points)],
    )
    lots.consume(conn, entry_id=out_id, member_id=from_member_id, takes=takes,
                 kind="transfer", sink_party_id=None, booked_at=at)
    in_id = journal.book(
        conn, kind="transfer_in", member_id=to_member_id, points=points, booked_at=at,
        details={"from_member_id": from_member_id, **(details or {})},
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
    if from_hold:
        sender = balances.move(conn, from_member_id, at, held=-points)
    else:
        sender = balances.move(conn, from_member_id, at, balance=-points)
    receiver = balances.move(conn, to_member_id, at, balance=points)
    if receiver.debt:
        lots.repay_debts(conn, member_id=to_member_id, entry_id=in_id, credits=received,
                         now=at)
    return Receipt(entry_id=out_id, kind=out_kind, member_id=from_member_id,
                   points=points, booked_at=iso(at), balance=sender.balance,
                   held=sender.held, debt=sender.debt)
