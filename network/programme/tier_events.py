"""Tier changes raised as programme facts: `tier_changed`, which campaigns can trigger on.

A tier change is decided inside an earn (network/programme/tiers_store.upgrade_at_earn) or by the
daily recalculation, and stored there as a `tier_changes` row. The fact is raised from that row
by the worker's `tier-facts` job, every minute, rather than in the earn's transaction: a fact
wakes campaigns (fact_awards), which book points through the earn's own pieces, which is where
the upgrade is decided. Raising it afterwards keeps that one-way (no module circle, no earn that
books a second campaign award inside itself) and keeps the earn's transaction the ledger's. Each
change is raised once: its key `tier_changed:<change id>` makes a second run find it recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from network.clock import as_utc
from network.db.engine import Database
from network.programme import inbox, ladder_store, tiers
from network.programme.facts import LifecycleEvent
from network.programme.tiers import TierDefinition
from network.programme.tiers_schema import tier_changes

LOOKBACK = dt.timedelta(days=3)  # a worker down this long still raises every change


@dataclass
class Raised:
    changes: int = 0  # changes looked at
    raised: int = 0  # facts recorded now (the others were already)


def fact_of(row: object, definitions: Sequence[TierDefinition]) -> LifecycleEvent:
    """The `tier_changed` fact of a stored change: from, to and which way."""
    up = tiers.rank(definitions, row.to_tier) > tiers.rank(definitions, row.from_tier)
    return LifecycleEvent(kind="tier_changed", member_id=row.member_id,
                          at=as_utc(row.changed_at),  # SQLite keeps UTC's wall clock
                          partner_id=row.partner_id,
                          attributes={"from": row.from_tier, "to": row.to_tier,
                                      "direction": "up" if up else "down"})


def raise_recent(db: Database, now: dt.datetime, *, timezone: str,
                 definitions: Sequence[TierDefinition] | None = None) -> Raised:
    """Record the fact of every change of the last LOOKBACK not recorded yet, each in a
    transaction of its own (a crash keeps the ones done; the next run does the rest)."""
    tc = tier_changes.c
    rows = db.read(lambda c: c.execute(
        select(tc.id, tc.member_id, tc.from_tier, tc.to_tier, tc.changed_at, tc.partner_id)
        .where(tc.changed_at >= now - LOOKBACK, tc.changed_at <= now).order_by(tc.id)).all())
    run = Raised(changes=len(rows))
    for row in rows:
        def record(conn: Connection, row: object = row) -> bool:
            ladder = ladder_store.ladder(conn) if definitions is None else definitions
            return inbox.record(conn, fact_of(row, ladder), key=f"tier_changed:{row.id}",
                                now=now, timezone=timezone).new
        run.raised += int(db.write(record))
    return run
