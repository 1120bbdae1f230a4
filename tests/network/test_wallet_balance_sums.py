"""The balance summary's sums, made by the database, against the rule read lot by lot.

balances.summary asks the database for the spendable lots' sums (all, and those expiring
within the horizon by date) and the pending lots one by one. This test keeps the rule it
replaced, a loop over every open lot, and compares the two on members with many lots: some
pending (two vesting at the same moment), some expiring at the same moment, some spent, some
never expiring, some already expired, read at several moments and horizons."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from network import ledger
from network.clock import as_utc
from network.db.engine import Database
from network.db.schema import LOT_IS_OPEN, lots
from network.ledger.balances import Dated, WalletBalance, summary
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def lot_by_lot(db: Database, member_id: int, now: datetime, within: timedelta,
               debt: int, held: int) -> WalletBalance:
    """The rule as the wallet applied it to each open lot, in FIFO order."""
    rows = db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, lots.c.remaining, lots.c.vests_at, lots.c.expires_at)
        .where(lots.c.member_id == member_id, LOT_IS_OPEN)
        .order_by(lots.c.expires_at.asc().nulls_last(), lots.c.id)).all())
    spendable = pending = 0
    waiting: list[Dated] = []
    expiring: dict[datetime, int] = {}
    for issuer, remaining, vests_at, expires_at in rows:
        vests_at = as_utc(vests_at)
        expires_at = as_utc(expires_at) if expires_at is not None else None
        if expires_at is not None and expires_at <= now:
            continue
        if vests_at > now:
            pending += remaining
            waiting.append(Dated(remaining, vests_at, issuer))
            continue
        spendable += remaining
        if expires_at is not None and expires_at <= now + within:
            expiring[expires_at] = expiring.get(expires_at, 0) + remaining
    waiting.sort(key=lambda d: d.at)
    return WalletBalance(spendable + pending - debt, spendable, pending, held, debt, waiting,
                         [Dated(points, at) for at, points in sorted(expiring.items())])


def test_the_sums_are_the_lots_own(db):
    rnd = random.Random(21)
    partners = [w.partner(db, name) for name in ("cafe", "shop", "telco")]
    member = w.member(db)
    for k in range(40):
        at = T0 + rnd.choice((0, 0, 3, 10)) * DAY  # repeats: shared vesting and expiry moments
        partner = rnd.choice(partners)
        ledger.earn(db, scope=f"partner:{partner}", idempotency_key=w.key(), issuer_id=partner,
                    member_id=member, points=rnd.randint(1, 90),
                    vests_at=at + rnd.choice((0, 0, 14, 20)) * DAY,
                    expires_at=(None if k % 9 == 0
                                else at + rnd.choice((25, 25, 60, 100, 400)) * DAY), now=at)
    ledger.redeem(db, scope=f"partner:{partners[0]}", idempotency_key="spent",
                  partner_id=partners[0], member_id=member, points=300, now=T0 + 15 * DAY)
    seen = set()
    for days in (0, 5, 15, 21, 35, 70, 200, 500):
        now = T0 + days * DAY
        for within in (timedelta(days=90), timedelta(days=7)):
            read = db.read(summary, member, now, within)
            assert read == lot_by_lot(db, member, now, within, read.debt, read.held)
            seen.add((bool(read.pending_lots), bool(read.expiring)))
            assert all(d.issuer_party_id in partners for d in read.pending_lots)
    assert seen >= {(True, True), (False, True), (False, False)}


def test_a_member_without_lots_reads_zero(db):
    member = w.member(db)
    read = db.read(summary, member, T0)
    assert (read.total, read.spendable, read.pending, read.pending_lots, read.expiring) == (
        0, 0, 0, [], [])
