"""Earned and spent per partner (and given per charity), and the points that count for the tier.

Earned counts earns and bonuses net of earn reversals; spent counts redemptions and captured
holds net of redemption refunds, and donations (network/ledger/summary.py has the rule). Both are
read from the sums the ledger writers keep (`wallet_summary`, `wallet_earned_days`), so the read
costs the same for a member with ten entries and one with ten thousand. One query serves both the
per-partner table and the tier, since the wallet page needs both and every round trip counts on
the hottest read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import literal, select
from sqlalchemy.engine import Connection

from network.db.schema import parties, wallet_summary
from network.ledger import summary
from network.programme import ladder_store, tiers
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


# Built once with bound parameters, so SQLAlchemy reuses its compiled form on the hot path. The
# tier's points ride along as a column; the outer join from one row gives them even to a member
# with no sums yet.
_ws = wallet_summary.c
_BY_PARTY = (
    select(summary.EARNED_SINCE, _ws.earned, _ws.spent,
           parties.c.id, parties.c.kind, parties.c.code, parties.c.name, parties.c.name_fa)
    .select_from(select(literal(1).label("one")).subquery("one")
                 .outerjoin(wallet_summary.join(parties, parties.c.id == _ws.party_id),
                            _ws.member_id == summary.MEMBER))
)


def activity(conn: Connection, member_id: int, now: dt.datetime) -> Activity:
    rows = conn.execute(_BY_PARTY, summary.since_params(
        member_id, now - tiers.window(ladder_store.ladder(conn)))).all()
    totals = [PartyTotals(PartyName(party_id, kind, code, name, name_fa), int(earned), int(spent))
              for _, earned, spent, party_id, kind, code, name, name_fa in rows
              if party_id is not None]
    totals.sort(key=lambda t: (-(t.earned + t.spent), t.party.name))
    return Activity(totals, max(0, int(rows[0][0])))


def per_party(conn: Connection, member_id: int, now: dt.datetime) -> list[PartyTotals]:
    return activity(conn, member_id, now).partners
