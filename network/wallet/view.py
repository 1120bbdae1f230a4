"""The wallet read model: everything the page shows, read in one transaction.

Read it through network.wallet.reads.snapshot, so the balance, the expiring points and the
first page of history agree with each other even while a partner writes to the wallet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from network import members
from network.ledger import balances
from network.ledger.balances import WalletBalance
from network.programme import ladder_store, tiers
from network.programme.tiers import TierStatus
from network.wallet import history, pending, totals
from network.wallet.history import HistoryPage
from network.wallet.pending import PendingPoints
from network.wallet.totals import PartyTotals

EXPIRING_WITHIN = dt.timedelta(days=90)


@dataclass(frozen=True)
class WalletView:
    member: members.Member
    balance: WalletBalance
    pending: list[PendingPoints]  # the balance's pending points, by partner and vesting time
    tier: TierStatus | None
    partners: list[PartyTotals]
    history: HistoryPage


def load(conn: Connection, member_id: int, secret: str, now: dt.datetime, *, first: int = 20,
         after: tuple[dt.datetime, int] | None = None) -> WalletView | None:
    member = members.get(conn, member_id, secret)
    if member is None:
        return None
    done = totals.activity(conn, member_id, now)
    balance = balances.summary(conn, member_id, now, EXPIRING_WITHIN)
    return WalletView(
        member=member,
        balance=balance,
        pending=pending.by_partner(conn, balance, (t.party for t in done.partners)),
        tier=tiers.held_standing(ladder_store.ladder(conn), tiers.TierFacts(done.tier_points),
                                 done.held),
        partners=done.partners,
        history=history.page(conn, member_id, first=first, after=after),
    )
