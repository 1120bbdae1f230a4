"""The edge of the tier rules: the ledger facts qualification reads, gathered in SQL.

The wallet's page read gathers the same fact along with its per-partner totals in one query
(network/wallet/totals.py); this module serves the callers that need only the tier. One
member's points come from the sums the ledger writers keep (network/ledger/summary.py); the
segment refresh's all-members query sums the entries in one pass.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from network.clock import as_utc
from network.db.schema import journal_entries as je
from network.ledger import summary
from network.programme import ladder_store, tiers
from network.programme.tiers import TierDefinition, TierFacts, TierStatus
from network.programme.tiers_schema import member_tiers

EARNED_KINDS = tuple(summary.EARNED)  # earns and bonuses, less earn reversals
EARNED = case((je.c.kind == "reverse_earn", -je.c.points), else_=je.c.points)


def earned_in_window(conn: Connection, member_id: int, now: dt.datetime,
                     window: dt.timedelta | None = None) -> int:
    return max(0, summary.earned_since(conn, member_id, now - (window or _window(conn))))


def _window(conn: Connection) -> dt.timedelta:
    return tiers.window(ladder_store.ladder(conn))


def facts(conn: Connection, member_id: int, now: dt.datetime,
          definitions: tuple[TierDefinition, ...] | None = None) -> TierFacts:
    """The member's facts over the window of `definitions` (the ladder in force when None)."""
    definitions = ladder_store.ladder(conn) if definitions is None else definitions
    return TierFacts(earned_in_window(conn, member_id, now, tiers.window(definitions)))


def status(conn: Connection, member_id: int, now: dt.datetime,
           definitions: tuple[TierDefinition, ...] | None = None) -> TierStatus | None:
    """The member's tier in force (the stored tier, or what the facts reach if higher) with the
    way to the next one: what a partner's member look-up shows (the ladder in force when
    `definitions` is None)."""
    definitions = ladder_store.ladder(conn) if definitions is None else definitions
    if not definitions:
        return None
    row = conn.execute(select(member_tiers).where(member_tiers.c.member_id == member_id)).first()
    held = (tiers.HeldTier(row.tier, as_utc(row.since), row.qualified_until)
            if row is not None else None)
    return tiers.held_standing(definitions, facts(conn, member_id, now, definitions), held)


def earned_by_member(conn: Connection, now: dt.datetime,
                     window: dt.timedelta | None = None) -> dict[int, int]:
    """`earned_in_window` for every member with earns in the window, in one grouped query (the
    segment refresh's tier facts); members missing from the answer earned nothing."""
    rows = conn.execute(
        select(je.c.member_id, func.sum(EARNED).label("points"))
        .where(je.c.booked_at > now - (window or _window(conn)), je.c.kind.in_(EARNED_KINDS))
        .group_by(je.c.member_id))
    return {row.member_id: max(0, int(row.points)) for row in rows}
