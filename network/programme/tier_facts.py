"""The edge of the tier rules: the ledger facts qualification reads, gathered in SQL.

The wallet's page read gathers the same fact along with its per-partner totals in one query
(network/wallet/totals.py); this module serves the callers that need only the tier.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from network.db.schema import journal_entries as je
from network.programme import tiers
from network.programme.tiers import TierDefinition, TierFacts, TierStatus


def earned_in_window(conn: Connection, member_id: int, now: dt.datetime,
                     window: dt.timedelta | None = None) -> int:
    signed = case((je.c.kind == "reverse_earn", -je.c.points), else_=je.c.points)
    total = conn.execute(
        select(func.coalesce(func.sum(signed), 0))
        .where(je.c.member_id == member_id, je.c.booked_at > now - (window or tiers.window()),
               je.c.kind.in_(("earn", "bonus", "reverse_earn")))
    ).scalar_one()
    return max(0, int(total))


def facts(conn: Connection, member_id: int, now: dt.datetime,
          definitions: tuple[TierDefinition, ...] = tiers.DEFINITIONS) -> TierFacts:
    return TierFacts(earned_in_window(conn, member_id, now, tiers.window(definitions)))


def status(conn: Connection, member_id: int, now: dt.datetime,
           definitions: tuple[TierDefinition, ...] = tiers.DEFINITIONS) -> TierStatus | None:
    if not definitions:
        return None
    return tiers.standing(definitions, facts(conn, member_id, now, definitions))
