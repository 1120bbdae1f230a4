"""Pending points with the partner they came from: "400 from Bazaar Online, spendable from 6 Dec".

The ledger's balance summary (network/ledger/balances.py) says how many points vest when, lot by
lot with each lot's issuer; a member also wants to know *who* they are waiting on (a return
window at an online shop, say), so this groups those same lots by partner and vesting moment.
It reads no lots of its own: what it shows is the balance beside it, from the same read, and
the wallet pays no second pass over the member's open lots. Only the partners' names are read,
and only when something is pending from a partner whose name the caller does not know already:
the wallet passes the names its per-partner sums came with (every earn's partner is among
them), so a pending earn costs no round trip of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from network.ledger.balances import WalletBalance
from network.wallet import parties_view
from network.wallet.parties_view import PartyName


@dataclass(frozen=True)
class PendingPoints:
    points: int
    vests_at: dt.datetime
    party: PartyName


def by_partner(conn: Connection, balance: WalletBalance,
               known: Iterable[PartyName] = ()) -> list[PendingPoints]:
    """Soonest first; one line per partner and vesting moment (partner id breaks ties).
    `known`: names read in the same snapshot, used instead of reading them again."""
    sums: dict[tuple[dt.datetime, int], int] = {}
    for lot in balance.pending_lots:
        assert lot.issuer_party_id is not None  # balances.summary names every pending lot's
        key = (lot.at, lot.issuer_party_id)
        sums[key] = sums.get(key, 0) + lot.points
    if not sums:
        return []
    names = {name.id: name for name in known}
    missing = [party for _, party in sums if party not in names]
    if missing:
        names.update(parties_view.load(conn, missing))
    return [PendingPoints(points, at, names[party]) for (at, party), points in sorted(sums.items())]
