"""Earned and spent per partner (and given per charity), and the points that count for the tier.

Earned counts earns and bonuses net of earn reversals; spent counts redemptions and captured
holds net of redemption refunds, and donations (network/ledger/summary.py has the rule). Both are
read from the sums the ledger writers keep (`wallet_summary`, `wallet_earned_days`), so the read
costs the same for a member with ten entries and one with ten thousand. One query serves both the
per-partner table and the tier (its window's points and the stored tier), since the wallet page
and `me` need both and every statement counts on the hottest read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import literal, select
from sqlalchemy.engine import Connection

from network.db.schema import parties, wallet_summary
from network.ledger import summary
from network.programme import ladder_store, tiers, tiers_store
from network.programme.tiers import HeldTier
from network.programme.tiers_schema import member_tiers
from network.wallet.parties_view import PartyName


@dataclass(frozen=True)
class PartyTotals:
    party: PartyName
    earned: int
    spent: int


@dataclass(frozen=True)
class Activity:
    partners: list[PartyTotals]
    tier_points: int  # earned in the tier window (the ladder in force), net of reversals
    held: HeldTier | None  # the stored tier (tiers_store); None: the member holds the first


# Built once with bound parameters, so SQLAlchemy reuses its compiled form on the hot path. The
# tier's points and the stored tier ride along as columns (one row at most from member_tiers);
# the outer joins from one row give them even to a member with no sums or tier row yet.
_ws, _mt = wallet_summary.c, member_tiers.c
_BY_PARTY = (
    select(summary.EARNED_SINCE, _mt.tier, _mt.since, _mt.qualified_until, _ws.earned, _ws.spent,
           parties.c.id, parties.c.kind, parties.c.code, parties.c.name, parties.c.name_fa)
    .select_from(select(literal(1).label("one")).subquery("one")
                 .outerjoin(member_tiers, _mt.member_id == summary.MEMBER)
                 .outerjoin(wallet_summary.join(parties, parties.c.id == _ws.party_id),
                            _ws.member_id == summary.MEMBER))
)


def activity(conn: Connection, member_id: int, now: dt.datetime) -> Activity:
    rows = conn.execute(_BY_PARTY, summary.since_params(
        member_id, now - tiers.window(ladder_store.ladder(conn)))).all()
    totals = [PartyTotals(PartyName(party_id, kind, code, name, name_fa), int(earned), int(spent))
              for *_, earned, spent, party_id, kind, code, name, name_fa in rows
              if party_id is not None]
    totals.sort(key=lambda t: (-(t.earned + t.spent), t.party.name))
    first = rows[0]
    held = tiers_store.held_of(first) if first.tier is not None else None
    return Activity(totals, max(0, int(first[0])), held)


def per_party(conn: Connection, member_id: int, now: dt.datetime) -> list[PartyTotals]:
    return activity(conn, member_id, now).partners
