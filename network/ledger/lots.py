"""Lots and consumptions: where every point came from and where it went.

Spending takes spendable lots (vested, not expired, with points left) earliest expiry first, ties
by age, and writes one consumption row per lot touched. That row (issuer, sink, points) is all
settlement needs. A hold moves points out of lots into hold allocations; capture turns them into
consumptions, void puts them back.

A debt lot (negative points) records what a clawback could not take back. Every later credit to
the member repays debts first, written as a `clawback` consumption from the new lot to the party
the member owes, so provenance stays exact and the member's balance climbs back to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, ScalarSelect, and_, bindparam, func, insert, or_, select, update

from network.db.schema import LOT_IS_OPEN, consumptions, lots, member_balances
from network.ledger.rules import Lot, Take, plan_repayment

# The hot statements are built once (see network/ledger/balances.py for why).
_FIFO = (lots.c.expires_at.asc().nulls_last(), lots.c.id)
_SPENDABLE = (
    select(lots.c.id, lots.c.issuer_party_id, lots.c.remaining, lots.c.vests_at,
           lots.c.expires_at, func.sum(lots.c.remaining).over(order_by=_FIFO).label("running"))
    .where(lots.c.member_id == bindparam("m"), LOT_IS_OPEN,
           lots.c.vests_at <= bindparam("now"),
           or_(lots.c.expires_at.is_(None), lots.c.expires_at > bindparam("now")))
    .subquery()
)
_SPENDABLE_UP_TO = (
    select(_SPENDABLE.c.id, _SPENDABLE.c.issuer_party_id, _SPENDABLE.c.remaining,
           _SPENDABLE.c.vests_at, _SPENDABLE.c.expires_at)
    # A running sum stops the walk at the lot that covers the amount.
    .where(_SPENDABLE.c.running - _SPENDABLE.c.remaining < bindparam("up_to"))
    .order_by(_SPENDABLE.c.running)
)
_CREATE = insert(lots).returning(lots.c.id)
# Every write names the lot's member as well as its id: the member is the ledger's shard key,
# so on Citus (infra/distribution.py) the statement goes to that member's shard alone.
_TAKE = (update(lots).where(lots.c.id == bindparam("lot_id"), lots.c.member_id == bindparam("m"),
                            lots.c.remaining >= bindparam("n"))
         .values(remaining=lots.c.remaining - bindparam("n")))
_CONSUME = insert(consumptions)

# No lot holds more than this, so "up to" it means "all of them".
_ALL = 2**62


def spendable(conn: Connection, member_id: int, now: datetime, up_to: int | None = None
              ) -> list[Lot]:
    """Spendable lots in FIFO order; with `up_to`, only as many as it takes to cover it.

    A member with hundreds of open lots costs one indexed scan and a short result. When the
    lots cannot cover `up_to`, all of them come back and their sum says how many points there are.
    """
    rows = conn.execute(_SPENDABLE_UP_TO, {"m": member_id, "now": now,
                                           "up_to": _ALL if up_to is None else up_to})
    return [Lot(*row) for row in rows]


def of_entry(conn: Connection, entry_id: int) -> list[Lot]:
    """The lots an entry created, as they stand now, in creation order."""
    rows = conn.execute(select(lots.c.id, lots.c.issuer_party_id, lots.c.remaining,
                               lots.c.vests_at, lots.c.expires_at)
                        .where(lots.c.entry_id == entry_id).order_by(lots.c.id))
    return [Lot(*row) for row in rows]


def take(conn: Connection, takes: Iterable[Take], *, member_id: int) -> None:
    """Subtract taken points from the member's lots (the guard keeps a lot from going below
    zero)."""
    params = [{"lot_id": t.lot.id, "m": member_id, "n": t.points} for t in takes]
    if params:
        conn.execute(_TAKE, params)


def give_back(conn: Connection, returns: Iterable[tuple[int, int]], *, member_id: int) -> None:
    """Put (lot_id, points) back into the member's lots: a void, an expired hold, a reversed
    redemption."""
    params = [{"lot_id": lot_id, "m": member_id, "n": points} for lot_id, points in returns
              if points]
    if params:
        conn.execute(
            update(lots).where(lots.c.id == bindparam("lot_id"),
                               lots.c.member_id == bindparam("m"))
            .values(remaining=lots.c.remaining + bindparam("n")),
            params,
        )


def consume(
    conn: Connection,
    *,
    entry_id: int,
    member_id: int,
    takes: Iterable[Take],
    kind: str,
    sink_party_id: int | None,
    booked_at: datetime,
    debt_lot_id: int | None = None,
) -> None:
    rows = [
        {"entry_id": entry_id, "member_id": member_id, "lot_id": t.lot.id,
         "issuer_party_id": t.lot.issuer_party_id, "kind": kind, "sink_party_id": sink_party_id,
         "points": t.points, "reversal_of_id": None, "debt_lot_id": debt_lot_id,
         "booked_at": booked_at}
        for t in takes
    ]
    if rows:
        conn.execute(_CONSUME, rows)


def create(
    conn: Connection,
    *,
    member_id: int,
    entry_id: int,
    issuer_party_id: int,
    points: int,
    vests_at: datetime,
    expires_at: datetime | None,
    now: datetime,
    source_lot_id: int | None = None,
) -> Lot:
    lot_id = conn.execute(_CREATE, {
        "member_id": member_id, "entry_id": entry_id, "issuer_party_id": issuer_party_id,
        "points": points, "remaining": points, "vests_at": vests_at, "expires_at": expires_at,
        "source_lot_id": source_lot_id, "created_at": now,
    }).scalar_one()
    return Lot(lot_id, issuer_party_id, points, vests_at, expires_at)


def repay_debts(
    conn: Connection, *, member_id: int, entry_id: int, credits: Sequence[Lot], now: datetime
) -> int:
    """Let freshly credited lots pay the member's open debt lots, oldest debt first.

    Called only when member_balances.debt > 0. Returns the points repaid; the caller has already
    moved the balance (the points stay inside the member's lots, only their owner changes).
    Points given back into a lot that has already expired (a hold released, a redemption
    reversed, after the lot's expiry) repay nothing: they are worthless and expire with it.
    """
    debts = conn.execute(
        select(lots.c.id, lots.c.issuer_party_id, lots.c.remaining)
        .where(lots.c.member_id == member_id, lots.c.remaining < 0)
        .order_by(lots.c.id)
    ).all()
    # Expiry read here, not taken from `credits`: callers build them from returns and know only
    # the lot id and the points.
    unexpired = set(conn.execute(
        select(lots.c.id).where(lots.c.id.in_([lot.id for lot in credits]),
                                or_(lots.c.expires_at.is_(None), lots.c.expires_at > now))
    ).scalars())
    plan = plan_repayment(debts, [lot for lot in credits
                                  if lot.remaining > 0 and lot.id in unexpired])
    for repayment in plan:
        consume(conn, entry_id=entry_id, member_id=member_id, takes=[repayment.take],
                kind="clawback", sink_party_id=repayment.creditor_party_id, booked_at=now,
                debt_lot_id=repayment.debt_lot_id)
        take(conn, [repayment.take], member_id=member_id)
        conn.execute(update(lots).where(lots.c.id == repayment.debt_lot_id,
                                        lots.c.member_id == member_id)
                     .values(remaining=lots.c.remaining + repayment.take.points))
    repaid = sum(repayment.take.points for repayment in plan)
    if repaid:
        conn.execute(update(member_balances).where(member_balances.c.member_id == member_id)
                     .values(debt=member_balances.c.debt - repaid))
    return repaid


def expired(conn: Connection, member_id: int, now: datetime) -> list[Lot]:
    rows = conn.execute(
        select(lots.c.id, lots.c.issuer_party_id, lots.c.remaining, lots.c.vests_at,
               lots.c.expires_at)
        .where(lots.c.member_id == member_id, LOT_IS_OPEN,
               and_(lots.c.expires_at.is_not(None), lots.c.expires_at <= now))
        .order_by(lots.c.expires_at, lots.c.id)
    )
    return [Lot(*row) for row in rows]


def spendable_points(member_id: int, now: datetime) -> ScalarSelect[int]:
    """The member's spendable points (`balances.summary`'s `spendable`: open, vested, not
    expired) as a scalar subquery, for a read that wants them inside its own statement (the
    catalog, network/programme/rewards_catalog.py)."""
    return (select(func.coalesce(func.sum(lots.c.remaining), 0))
            .where(lots.c.member_id == member_id, LOT_IS_OPEN, lots.c.vests_at <= now,
                   or_(lots.c.expires_at.is_(None), lots.c.expires_at > now))
            .scalar_subquery())
