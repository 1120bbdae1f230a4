"""Concurrency on PostgreSQL (SQLite serializes writers, so a pass there would prove nothing).

Threads share one engine with a real connection pool; every test ends with `verify`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from network import ledger
from network.db.schema import journal_entries, member_balances, postings
from network.ledger import errors
from network.ledger.verify import verify
from tests.support import ledger_world as w

# Forty redemptions at once hold forty connections of their own (a redemption runs on its
# thread's statement connection): with the other xdist worker's tests beside them, two such
# tests at once would pass the server's 100. The group keeps them on one worker.
pytestmark = pytest.mark.xdist_group("many-connections")


def test_forty_concurrent_redemptions_spend_only_what_is_there(pg_db):
    """Forty threads at once, not more: each redemption runs on its thread's own connection
    (Database.pg_statement), and the test server's 100 connections are shared."""
    cafe, shop = w.partner(pg_db, "cafe"), w.partner(pg_db, "shop")
    m = w.member(pg_db)
    for i in range(5):  # 5 lots of 50: the redemptions race across lot boundaries too
        ledger.earn(pg_db, scope="p", idempotency_key=f"seed-{i}", issuer_id=cafe, member_id=m,
                    points=50)
    start = threading.Barrier(40)

    def redeem(i: int) -> str:
        start.wait()
        try:
            ledger.redeem(pg_db, scope=f"partner:{shop}", idempotency_key=f"r-{i}",
                          partner_id=shop, member_id=m, points=10)
            return "ok"
        except errors.InsufficientPoints:
            return "INSUFFICIENT_POINTS"

    with ThreadPoolExecutor(max_workers=40) as pool:
        outcomes = Counter(pool.map(redeem, range(40)))
    assert outcomes == {"ok": 25, "INSUFFICIENT_POINTS": 15}
    balance = pg_db.read(lambda c: c.execute(select(member_balances.c.balance)
                                             .where(member_balances.c.member_id == m)).scalar_one())
    assert balance == 0
    assert verify(pg_db) == []


def test_same_idempotency_key_from_many_threads_writes_one_entry(pg_db):
    cafe = w.partner(pg_db, "cafe")
    m = w.member(pg_db)
    start = threading.Barrier(12)

    def earn(_: int) -> object:
        start.wait()
        for _attempt in range(1000):
            try:
                return ledger.earn(pg_db, scope=f"partner:{cafe}", idempotency_key="same",
                                   issuer_id=cafe, member_id=m, points=7)
            except errors.IdempotencyInProgress:
                # What a client does on HTTP 409: wait a moment, retry with the same key. A bare
                # spin could use up its tries before the first earn commits on a loaded machine.
                time.sleep(0.01)
        raise AssertionError("never completed")

    with ThreadPoolExecutor(max_workers=12) as pool:
        receipts = list(pool.map(earn, range(12)))
    assert len({r.entry_id for r in receipts}) == 1
    count = pg_db.read(lambda c: c.execute(select(func.count()).select_from(journal_entries)
                                           ).scalar_one())
    assert count == 1
    assert verify(pg_db) == []


def test_bank_style_random_operations_conserve_points(pg_db):
    partners = [w.partner(pg_db, f"p{i}") for i in range(4)]
    charity = w.charity(pg_db, "charity")
    members = [w.member(pg_db) for _ in range(12)]

    def worker(seed: int) -> Counter:
        rng = random.Random(seed)
        done: Counter = Counter()
        receipts: list[ledger.Receipt] = []
        holds: list[tuple[int, int]] = []
        for i in range(60):
            partner, member = rng.choice(partners), rng.choice(members)
            other = rng.choice(members)
            key = f"w{seed}-{i}"
            op = rng.choice(["earn", "earn", "redeem", "hold", "capture", "void", "donate",
                             "reverse", "transfer"])
            try:
                if op == "earn":
                    r = ledger.earn(pg_db, scope=f"partner:{partner}", idempotency_key=key,
                                    issuer_id=partner, member_id=member,
                                    points=rng.randint(1, 200))
                    receipts.append(r)
                elif op == "redeem":
                    ledger.redeem(pg_db, scope="p", idempotency_key=key, partner_id=partner,
                                  member_id=member, points=rng.randint(1, 150))
                elif op == "hold":
                    r = ledger.authorize_hold(pg_db, scope="p", idempotency_key=key,
                                              partner_id=partner, member_id=member,
                                              points=rng.randint(1, 100))
                    holds.append((partner, r.hold_id, r.points))
                elif op in ("capture", "void") and holds:
                    p, h, held = holds.pop()
                    if op == "capture":
                        ledger.capture_hold(pg_db, scope="p", idempotency_key=key, partner_id=p,
                                            hold_id=h, points=rng.randint(1, held))
                    else:
                        ledger.void_hold(pg_db, scope="p", idempotency_key=key, partner_id=p,
                                         hold_id=h)
                elif op == "donate":
                    ledger.donate(pg_db, scope="m", idempotency_key=key, member_id=member,
                                  charity_id=charity, points=rng.randint(1, 50))
                elif op == "reverse" and receipts:
                    r = rng.choice(receipts)
                    ledger.reverse_earn(pg_db, scope="p", idempotency_key=key,
                                        partner_id=_issuer(pg_db, r.entry_id),
                                        entry_id=r.entry_id, points=rng.randint(1, r.points))
                elif op == "transfer" and other != member:
                    ledger.transfer(pg_db, scope="m", idempotency_key=key, from_member_id=member,
                                    to_member_id=other, points=rng.randint(1, 30), allowed=True)
                done[op] += 1
            except errors.LedgerError as exc:
                done[exc.code] += 1
        return done

    with ThreadPoolExecutor(max_workers=8) as pool:
        totals = sum(pool.map(worker, range(8)), Counter())
    assert totals["earn"] > 0 and totals["redeem"] + totals["INSUFFICIENT_POINTS"] > 0
    # Conservation: all postings sum to zero, and the members' separately kept running balances
    # hold exactly what the partner, charity and network accounts gave out, to the point.
    net = pg_db.read(lambda c: c.execute(select(func.coalesce(func.sum(postings.c.points), 0))
                                         ).scalar_one())
    assert net == 0
    outside = pg_db.read(lambda c: c.execute(
        select(func.sum(postings.c.points)).where(postings.c.party_id.is_not(None))).scalar_one())
    held_by_members = pg_db.read(lambda c: c.execute(
        select(func.sum(member_balances.c.balance + member_balances.c.held))).scalar_one())
    assert held_by_members == -outside
    assert verify(pg_db) == []


def _issuer(db, entry_id: int) -> int:
    return db.read(lambda c: c.execute(select(journal_entries.c.party_id)
                                       .where(journal_entries.c.id == entry_id)).scalar_one())
