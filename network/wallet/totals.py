"""Earned and spent per partner (and given per charity), and the points that count for the tier.

Earned counts earns and bonuses net of earn reversals; spent counts redemptions and captured
holds net of redemption refunds, and donations. Open holds and expiries are not spending.
One grouped query serves both the per-partner table and the tier, since the wallet page needs
both and every round trip counts on the hottest read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, bindparam, case, func, select
from sqlalchemy.engine import Connection

from network.db.schema import Timestamp, parties
from network.db.schema import journal_entries as je
from network.programme import ladder_store, tiers
from network.wallet.parties_view import PartyName

_EARNED = {"earn": 1, "bonus": 1, "reverse_earn": -1}
_SPENT = {"redeem": 1, "reward": 1, "capture": 1, "reverse_redemption": -1, "donate": 1,
          "lottery": 1}


@dataclass(frozen=True)
class PartyTotals:
    party: PartyName
    earned: int
    spent: int


@dataclass(frozen=True)
class Activity:
    partners: list[PartyTotals]
    tier_points: int  # earned in the tier window (programme tiers.window()), net of reversals


# Built once with bound parameters, so SQLAlchemy reuses its compiled form on the hot path.
_SINCE = bindparam("since", type_=Timestamp)
_BY_PARTY = (
    select(je.c.kind, func.sum(je.c.points),
           func.sum(case((je.c.booked_at > _SINCE, je.c.points), else_=0)),
           parties.c.id, parties.c.kind, parties.c.code, parties.c.name, parties.c.name_fa)
    .select_from(je.join(parties, parties.c.id == je.c.party_id))
    .where(je.c.member_id == bindparam("member_id", type_=BigInteger),
           je.c.kind.in_(tuple(_EARNED) + tuple(_SPENT)))
    .group_by(je.c.kind, parties.c.id, parties.c.kind, parties.c.code, parties.c.name,
              parties.c.name_fa)
)


def activity(conn: Connection, member_id: int, now: dt.datetime) -> Activity:
    rows = conn.execute(_BY_PARTY, {"member_id": member_id,
                                    "since": now - tiers.window(ladder_store.ladder(conn))}).all()
    sums: dict[int, list[int]] = {}
    names: dict[int, PartyName] = {}
    tier_points = 0
    for kind, points, in_window, party_id, party_kind, code, name, name_fa in rows:
        names[party_id] = PartyName(party_id, party_kind, code, name, name_fa)
        earned_spent = sums.setdefault(party_id, [0, 0])
        earned_spent[0] += _EARNED.get(kind, 0) * int(points)
        earned_spent[1] += _SPENT.get(kind, 0) * int(points)
        tier_points += _EARNED.get(kind, 0) * int(in_window)
    totals = [PartyTotals(names[p], e, s) for p, (e, s) in sums.items()]
    totals.sort(key=lambda t: (-(t.earned + t.spent), t.party.name))
    return Activity(totals, max(0, tier_points))


def per_party(conn: Connection, member_id: int, now: dt.datetime) -> list[PartyTotals]:
    return activity(conn, member_id, now).partners
