"""The member's running balance row: the one lock that serializes everything a member does.

Every operation that touches a member locks that member's `member_balances` row first
(SELECT … FOR UPDATE; several members in ascending id order), and only then reads or changes
lots. On SQLite, BEGIN IMMEDIATE already serializes writers and FOR UPDATE is left out.

The statements on this hot path are built once with bind parameters: building a SQLAlchemy
statement costs about as much client CPU as executing it (infra/bench/earn_cost.py: 463 µs
built on each call against 209 µs reused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, bindparam, case, func, or_, select, update

from network.clock import as_utc
from network.db.schema import LOT_IS_OPEN, Timestamp, lots, member_balances
from network.ledger.errors import MemberNotFound


@dataclass(frozen=True)
class BalanceRow:
    member_id: int
    balance: int
    held: int
    debt: int


_ROW = (member_balances.c.member_id, member_balances.c.balance, member_balances.c.held,
        member_balances.c.debt)
_LOCK = select(*_ROW).where(member_balances.c.member_id == bindparam("m")).with_for_update()
_MOVE = (
    update(member_balances).where(member_balances.c.member_id == bindparam("m"))
    .values(balance=member_balances.c.balance + bindparam("d_balance"),
            held=member_balances.c.held + bindparam("d_held"),
            debt=member_balances.c.debt + bindparam("d_debt"), updated_at=bindparam("at"))
    .returning(*_ROW)
)


def lock(conn: Connection, member_id: int, field: str = "memberId") -> BalanceRow:
    row = conn.execute(_LOCK, {"m": member_id}).first()
    if row is None:
        raise MemberNotFound("no member with this id", field=field)
    return BalanceRow(*row)


def lock_many(conn: Connection, member_ids: list[int]) -> dict[int, BalanceRow]:
    """Fixed order (ascending id) so two transfers in opposite directions cannot deadlock."""
    return {member_id: lock(conn, member_id) for member_id in sorted(set(member_ids))}


def move(conn: Connection, member_id: int, now: datetime, *, balance: int = 0, held: int = 0,
         debt: int = 0) -> BalanceRow:
    """Apply deltas to the member's row and return it; raises MemberNotFound if there is none."""
    row = conn.execute(_MOVE, {"m": member_id, "d_balance": balance, "d_held": held,
                               "d_debt": debt, "at": now}).first()
    if row is None:
        raise MemberNotFound("no member with this id", field="memberId")
    return BalanceRow(*row)


@dataclass(frozen=True)
class Dated:
    points: int
    at: datetime
    issuer_party_id: int | None = None  # a pending lot's issuer (the wallet names who it waits on)


@dataclass(frozen=True)
class WalletBalance:
    """What a member (or a partner at the till) sees: the balance split by what it can do now."""

    total: int  # spendable + pending - debt; what the member owns outside holds
    spendable: int
    pending: int
    held: int
    debt: int
    pending_lots: list[Dated] = field(default_factory=list)  # when each pending part vests
    expiring: list[Dated] = field(default_factory=list)  # spendable points expiring soon


# The balance row and its open lots' sums in one round trip (the wallet's hottest read). The
# wallet shows spendable points as sums (all of them, and those expiring soon by date) and
# pending points lot by lot, so PostgreSQL sums the spendable lots and returns one row per
# pending lot, one per expiry date inside the horizon, and one for the rest: a member with 300
# open lots, most of them spendable, is no longer 300 rows through the driver and the loop
# below. Expired lots waiting for the expiry run are not the member's to spend or to wait for.
_NOW = bindparam("now", type_=Timestamp)
_PENDING_LOT = case((lots.c.vests_at > _NOW, lots.c.id), else_=None)
_EXPIRING_AT = case(((lots.c.vests_at <= _NOW) & (lots.c.expires_at <= bindparam(
    "horizon", type_=Timestamp)), lots.c.expires_at), else_=None)
_SUMMARY = (
    select(member_balances.c.held, member_balances.c.debt, _PENDING_LOT.label("lot"),
           _EXPIRING_AT.label("expiring_at"), func.min(lots.c.issuer_party_id),
           func.sum(lots.c.remaining), func.min(lots.c.vests_at), func.min(lots.c.expires_at))
    .select_from(member_balances.outerjoin(
        lots, (lots.c.member_id == member_balances.c.member_id) & LOT_IS_OPEN
        & or_(lots.c.expires_at.is_(None), lots.c.expires_at > _NOW)))
    .where(member_balances.c.member_id == bindparam("m"))
    .group_by(member_balances.c.held, member_balances.c.debt, _PENDING_LOT, _EXPIRING_AT)
)
_NEVER = datetime.max.replace(tzinfo=UTC)


def summary(conn: Connection, member_id: int, now: datetime,
            expiring_within: timedelta = timedelta(days=90)) -> WalletBalance:
    rows = conn.execute(_SUMMARY, {"m": member_id, "now": now,
                                   "horizon": now + expiring_within}).all()
    if not rows:
        raise MemberNotFound("no member with this id", field="memberId")
    held, debt = rows[0][:2]
    spendable = pending = 0
    # (vests_at, expires_at, lot id): the order the lots were read in before, earliest expiry
    # first, never-expiring last, then sorted (stably) by when they vest.
    waiting: list[tuple[datetime, datetime, int, Dated]] = []
    expiring: list[Dated] = []
    for _, _, lot_id, expiring_at, issuer, remaining, vests_at, expires_at in rows:
        if remaining is None:
            continue  # the outer join's row of a member without open lots
        remaining = int(remaining)
        if lot_id is not None:
            at = as_utc(vests_at)
            pending += remaining
            waiting.append((at, as_utc(expires_at) if expires_at is not None else _NEVER,
                            lot_id, Dated(remaining, at, issuer)))
            continue
        spendable += remaining
        if expiring_at is not None:
            expiring.append(Dated(remaining, as_utc(expiring_at)))
    waiting.sort(key=lambda w: w[:3])
    expiring.sort(key=lambda d: d.at)
    return WalletBalance(
        total=spendable + pending - debt, spendable=spendable, pending=pending,
        held=held, debt=debt, pending_lots=[w[3] for w in waiting], expiring=expiring,
    )
