"""Pending points with the partner they came from: "400 from Bazaar Online, spendable from 6 Dec".

The ledger's balance summary (network/ledger/balances.py) says how many points vest when; a
member also wants to know *who* they are waiting on (a return window at an online shop, say),
so this reads the same open pending lots with their issuer. It runs in the wallet's one read
transaction (network/wallet/reads.py), so it agrees with the balance shown beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, bindparam, func, or_, select
from sqlalchemy.engine import Connection

from network.clock import as_utc
from network.db.schema import LOT_IS_OPEN, Timestamp, lots, parties
from network.wallet.parties_view import PartyName


@dataclass(frozen=True)
class PendingPoints:
    points: int
    vests_at: dt.datetime
    party: PartyName


_NOW = bindparam("now", type_=Timestamp)
# Same lots as balances.summary counts as pending: points left, not yet vested, not expired.
_PENDING = (
    select(func.sum(lots.c.remaining), lots.c.vests_at, parties.c.id, parties.c.kind,
           parties.c.code, parties.c.name, parties.c.name_fa)
    .select_from(lots.join(parties, parties.c.id == lots.c.issuer_party_id))
    .where(lots.c.member_id == bindparam("member_id", type_=BigInteger), LOT_IS_OPEN,
           lots.c.vests_at > _NOW, or_(lots.c.expires_at.is_(None), lots.c.expires_at > _NOW))
    .group_by(lots.c.vests_at, parties.c.id, parties.c.kind, parties.c.code, parties.c.name,
              parties.c.name_fa)
    .order_by(lots.c.vests_at, parties.c.id)
)


def pending(conn: Connection, member_id: int, now: dt.datetime) -> list[PendingPoints]:
    """Soonest first; one line per partner and vesting moment."""
    return [PendingPoints(int(points), as_utc(vests_at),
                          PartyName(party_id, kind, code, name, name_fa))
            for points, vests_at, party_id, kind, code, name, name_fa
            in conn.execute(_PENDING, {"member_id": member_id, "now": now})]
