"""Tiers: a status earned by points collected in the last twelve months.

Counted from earn and bonus entries minus earn reversals, so returning a purchase also takes back
its tier credit; spending never lowers a tier. An empty TIERS switches tiers off everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from network.db.schema import journal_entries as je

# (name, points earned in the trailing window needed to hold it), ascending.
TIERS: tuple[tuple[str, int], ...] = (("blue", 0), ("silver", 2_000), ("gold", 10_000),
                                      ("platinum", 50_000))
WINDOW = dt.timedelta(days=365)


@dataclass(frozen=True)
class TierStatus:
    name: str
    earned: int
    next_name: str | None
    next_threshold: int | None

    @property
    def remaining(self) -> int:
        return max(0, (self.next_threshold or 0) - self.earned)

    @property
    def span(self) -> int:
        """Points between this tier's floor and the next tier's, for the progress bar."""
        floor = dict(TIERS)[self.name]
        return max(1, (self.next_threshold or floor) - floor)

    @property
    def progress(self) -> int:
        return min(self.span, max(0, self.earned - dict(TIERS)[self.name]))


def tier_for(earned: int) -> TierStatus | None:
    if not TIERS:
        return None
    current = TIERS[0]
    following: tuple[str, int] | None = None
    for index, tier in enumerate(TIERS):
        if earned >= tier[1]:
            current = tier
            following = TIERS[index + 1] if index + 1 < len(TIERS) else None
    return TierStatus(current[0], earned, following[0] if following else None,
                      following[1] if following else None)


def earned_in_window(conn: Connection, member_id: int, now: dt.datetime) -> int:
    signed = case((je.c.kind == "reverse_earn", -je.c.points), else_=je.c.points)
    total = conn.execute(
        select(func.coalesce(func.sum(signed), 0))
        .where(je.c.member_id == member_id, je.c.booked_at > now - WINDOW,
               je.c.kind.in_(("earn", "bonus", "reverse_earn")))
    ).scalar_one()
    return max(0, int(total))


def status(conn: Connection, member_id: int, now: dt.datetime) -> TierStatus | None:
    return tier_for(earned_in_window(conn, member_id, now)) if TIERS else None
