"""A campaign's budget as SLOTS counters, so concurrent earns of one campaign do not queue on one
row.

A campaign that matches every earn at a partner used to add its points to one `spent_points`
column on every earn: a row lock held from the UPDATE to COMMIT (the WAL flush included) by each
earn, so 16 concurrent earns at that partner took turns. Now what it spent lives in
`campaign_budget_slots`, SLOTS rows per campaign, and an earn adds to the slot of its member
(`slot_of`): earns of different slots never wait for each other.

Exactness: each slot has a cap, and the caps sum to the budget (`caps`), so a slot's conditional
UPDATE (`spent + n <= cap`) can never let the campaign issue more than its budget, however many
earns run at once. A slot short of points is not the budget short: `take` then falls over to the
others, locking all the campaign's slots in ascending order (a caller locks each campaign's
slots only there, or in `left(lock=True)`, campaigns in ascending id: no circular wait) and
taking the points from their sum, so the campaign stops exactly when the whole budget is spent,
not when one slot is. A reversal gives its points back to the slots (`give_back`); a new budget
gives each slot what it spent plus an even share of what is left (`recap`). A campaign without
a budget has caps of NULL and counts what it spent the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import BigInteger, Connection, cast, func, insert, select, update

from network.programme.campaigns_schema import campaign_budget_slots as slots
from network.programme.campaigns_schema import campaigns

SLOTS = 16

# What a campaign has spent, as a column of a query over `campaigns` (listings, portal pages);
# cast, as PostgreSQL's sum of bigints is numeric.
SPENT = (select(cast(func.coalesce(func.sum(slots.c.spent), 0), BigInteger))
         .where(slots.c.campaign_id == campaigns.c.id).scalar_subquery())


def slot_of(member_id: int) -> int:
    """The member's slot: the statement in network/ledger/pg_writer.py computes it the same
    way (`member % SLOTS`)."""
    return member_id % SLOTS


def caps(budget: int | None, spent: Sequence[int]) -> list[int | None]:
    """Each slot's cap for `budget`, given what each slot spent: what it spent plus an even share
    of what is left (the remainder to the first slots), so the caps sum to the budget. The
    caller has checked the budget is not below the sum spent (validation's BUDGET_BELOW_SPENT)."""
    if budget is None:
        return [None] * len(spent)
    share, extra = divmod(budget - sum(spent), len(spent))
    return [s + share + (1 if i < extra else 0) for i, s in enumerate(spent)]


def create(conn: Connection, campaign_id: int, budget: int | None) -> None:
    conn.execute(insert(slots), [{"campaign_id": campaign_id, "slot": i, "spent": 0, "cap": cap}
                                 for i, cap in enumerate(caps(budget, [0] * SLOTS))])


def recap(conn: Connection, campaign_id: int, budget: int | None) -> None:
    """Share a changed budget out again, the slots locked while it is."""
    spent = [row.spent for row in _locked(conn, campaign_id)]
    for i, cap in enumerate(caps(budget, spent)):
        conn.execute(update(slots).where(slots.c.campaign_id == campaign_id, slots.c.slot == i)
                     .values(cap=cap))


def spent(conn: Connection, campaign_id: int) -> int:
    return int(conn.execute(select(func.coalesce(func.sum(slots.c.spent), 0))
                            .where(slots.c.campaign_id == campaign_id)).scalar_one())


def take(conn: Connection, campaign_id: int, points: int, *, slot: int = 0) -> bool:
    """Spend `points` of the campaign's budget if that many are left (always, without a budget):
    from `slot` (an earn's: its member's, `slot_of`) with one conditional UPDATE, else from all
    the slots together, locked; False (and nothing taken) when the whole budget has fewer left."""
    if points <= 0:
        return True
    c = slots.c
    mine = conn.execute(update(slots).where(
        c.campaign_id == campaign_id, c.slot == slot % SLOTS,
        c.cap.is_(None) | (c.spent + points <= c.cap)).values(spent=c.spent + points))
    if mine.rowcount:
        return True
    room = [(row.slot, row.cap - row.spent) for row in _locked(conn, campaign_id)
            if row.cap is not None]
    if sum(space for _, space in room) < points:
        return False
    _spread(conn, campaign_id, room, points, +1)
    return True


def give_back(conn: Connection, campaign_id: int, points: int, *, slot: int = 0) -> None:
    """Return points a reversed earn had taken: to `slot` first, then the others (a slot's spent
    never goes below 0; what no slot spent is not given back)."""
    if points <= 0:
        return
    rows = _locked(conn, campaign_id)
    order = sorted(rows, key=lambda row: row.slot != slot % SLOTS)
    _spread(conn, campaign_id, [(row.slot, row.spent) for row in order], points, -1)


def left(conn: Connection, campaign_ids: Iterable[int], *, lock: bool) -> dict[int, int]:
    """Points left per budgeted campaign of `campaign_ids`; with `lock`, all their slots locked
    (ascending campaign and slot) until the caller commits."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    c = slots.c
    query = select(c.campaign_id, c.cap, c.spent).where(
        c.campaign_id.in_(ids), c.cap.is_not(None)).order_by(c.campaign_id, c.slot)
    found: dict[int, int] = {}
    for row in conn.execute(query.with_for_update() if lock else query):
        found[row.campaign_id] = found.get(row.campaign_id, 0) + row.cap - row.spent
    return found


def _locked(conn: Connection, campaign_id: int) -> list:  # type: ignore[type-arg]
    c = slots.c
    return list(conn.execute(select(c.slot, c.spent, c.cap).where(c.campaign_id == campaign_id)
                             .order_by(c.slot).with_for_update()))


def _spread(conn: Connection, campaign_id: int, room: list[tuple[int, int]], points: int,
            sign: int) -> None:
    """Add (sign +1) or remove (-1) `points` over the slots in `room`'s order, each taking at
    most its room."""
    for slot, space in room:
        n = min(points, space)
        if n > 0:
            conn.execute(update(slots).where(slots.c.campaign_id == campaign_id,
                                             slots.c.slot == slot)
                         .values(spent=slots.c.spent + sign * n))
            points -= n
        if not points:
            return
