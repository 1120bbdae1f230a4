"""Ledger throughput on PostgreSQL, with pgbench TPC-B on the same server as the yardstick.

    .venv/bin/python -m infra.bench.ledger [--seconds 20] [--workers 8] [--lots 200]
    .venv/bin/python -m infra.bench.ledger --redeem-only --lots 200   # redemptions alone

Prints: earns/s from N worker processes calling `network.ledger.earn`; redemptions/s against
members holding `--lots` (200) open lots each; pgbench TPC-B tps with the same client count;
the ratios.
Uses throwaway databases on POINTSNET_BENCH_PG_URL (default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import time
import uuid
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import text

from infra.bench import cpu_split
from infra.bench.databases import PgBench, create_database, drop_database


def _earn_worker(url: str, member_ids: list[int], partner_id: int, seconds: float,
                 seed: int, gate: Gate) -> None:
    from network import ledger
    from network.clock import utcnow
    from network.db.engine import Database

    db = Database(url, pool_size=1, max_overflow=0)
    rng = random.Random(seed)
    expires = utcnow() + timedelta(days=365)
    done = 0
    gate.ready_and_wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        ledger.earn(db, scope=f"partner:{partner_id}", idempotency_key=f"b{seed}-{done}",
                    issuer_id=partner_id, member_id=rng.choice(member_ids),
                    points=rng.randint(1, 500), expires_at=expires)
        done += 1
    gate.out.put(done)


def _lots_worker(url: str, member_ids: list[int], partner_id: int, lots: int, seed: int,
                 gate: Gate) -> None:
    from network import ledger
    from network.clock import utcnow
    from network.db.engine import Database

    db = Database(url, pool_size=1, max_overflow=0)
    now = utcnow()
    gate.ready_and_wait()
    for member_id in member_ids:
        for i in range(lots):  # distinct expiries so the FIFO walk has an order to respect
            ledger.earn(db, scope=f"partner:{partner_id}", idempotency_key=f"l{member_id}-{i}",
                        issuer_id=partner_id, member_id=member_id, points=1000,
                        expires_at=now + timedelta(days=30 + i))
    gate.out.put(len(member_ids) * lots)


def _redeem_worker(url: str, member_ids: list[int], partner_id: int, seconds: float,
                   seed: int, gate: Gate) -> None:
    from network import ledger
    from network.db.engine import Database

    db = Database(url, pool_size=1, max_overflow=0)
    rng = random.Random(seed)
    done = 0
    # The thread's own statement connection: every redemption of this worker, one call of
    # ledger_debit (network/ledger/pg_debit.py), runs on this backend.
    backend = db.pg_statement("SELECT pg_backend_pid() AS pid", {}).pid
    gate.ready_and_wait()
    cpu = time.process_time(), cpu_split.backends([backend])
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        # Small amounts against 1,000-point lots: each redemption walks the FIFO order of
        # ~200 open lots and the members still hold ~200 open lots when the run ends.
        ledger.redeem(db, scope=f"partner:{partner_id}", idempotency_key=f"r{seed}-{done}",
                      partner_id=partner_id, member_id=rng.choice(member_ids),
                      points=rng.randint(1, 100))
        done += 1
    gate.out.put(Spent(done, time.process_time() - cpu[0],
                       cpu_split.backends([backend]) - cpu[1]))


class Spent(NamedTuple):
    """A redeem worker's count, and the CPU seconds it and its own backend spent on them: figures
    other runs on a shared server do not blur (the machine-wide split below counts them too)."""
    done: int
    worker: float
    backend: float


class Gate:
    """Workers import, connect and then wait here, so start-up is never part of the timing."""

    def __init__(self, workers: int) -> None:
        self.ready = mp.Barrier(workers + 1)
        self.go = mp.Event()
        self.out: mp.Queue = mp.Queue()

    def ready_and_wait(self) -> None:
        self.ready.wait()
        self.go.wait()


def _reporting(target, *args):  # type: ignore[no-untyped-def]
    """Run a worker; if it fails, say so on the queue, so the parent never waits forever."""
    gate = args[-1]
    try:
        target(*args)
    except BaseException as exc:
        gate.out.put(exc)
        raise


def run_workers(target, workers: int, args_for) -> tuple[list, float]:  # type: ignore[no-untyped-def]
    gate = Gate(workers)
    procs = [mp.Process(target=_reporting, args=(target, *args_for(i), gate))
             for i in range(workers)]
    for p in procs:
        p.start()
    gate.ready.wait(timeout=300)  # a worker that dies starting up breaks it
    start = time.perf_counter()
    gate.go.set()
    results = [gate.out.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise RuntimeError(f"{len(failures)} worker(s) failed: {failures[0]!r}")
    return results, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--lot-members", type=int, default=80)
    parser.add_argument("--lots", type=int, default=200,
                        help="open lots each redeeming member holds (default 200)")
    parser.add_argument("--redeem-only", action="store_true",
                        help="skip the earn phase: redemptions, TPC-B and their ratio only")
    args = parser.parse_args()

    from infra.migrate import upgrade
    from network import members, parties
    from network.db.engine import Database
    from network.ledger.verify import verify

    name = f"pointsnet_bench_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    try:
        upgrade(url)
        db = Database(url)
        partner_id = db.write(lambda c: parties.create(c, kind="partner", code="bench",
                                                       name="Bench"))
        earn_rate = None
        if not args.redeem_only:
            print(f"enrolling {args.members} members…", flush=True)
            member_ids = [members.enrol(db, secret="bench", scope="system",
                                        idempotency_key=f"m{i}", enrolled_by=partner_id).id
                          for i in range(args.members)]

            print(f"earn: {args.workers} worker processes for {args.seconds}s…", flush=True)
            earns, elapsed = run_workers(_earn_worker, args.workers, lambda i: (
                url, member_ids, partner_id, args.seconds, i))
            earn_rate = sum(earns) / elapsed

        per = -(-args.lot_members // args.workers)
        print(f"giving {args.lot_members} members {args.lots} open lots each…", flush=True)
        # Fresh members only, so every one of them has exactly `--lots` open lots.
        lot_members = [members.enrol(db, secret="bench", scope="system",
                                     idempotency_key=f"lm{i}", enrolled_by=partner_id).id
                       for i in range(args.lot_members)]
        chunks = [lot_members[i * per:(i + 1) * per] for i in range(args.workers)]
        run_workers(_lots_worker, args.workers,
                    lambda i: (url, chunks[i], partner_id, args.lots, i))
        # Statistics, as autovacuum keeps them on a live database: without them the plans of
        # the redemption's statements depended on whether autovacuum reached this new
        # database during the seeding (the debit's FIFO walk read every open lot of the member
        # with them, and only the lots it took without them, until migration 0036).
        db.write(lambda c: c.exec_driver_sql("ANALYZE"))

        print(f"redeem: {args.workers} worker processes for {args.seconds}s…", flush=True)
        before = cpu_split.read(os.getpid())
        spent, elapsed = run_workers(_redeem_worker, args.workers, lambda i: (
            url, lot_members, partner_id, args.seconds, i))
        redeems = sum(s.done for s in spent)
        # The workers are this process's children: "hub" is the ledger's Python side.
        redeem_cpu = cpu_split.read(os.getpid()) - before
        redeem_rate = redeems / elapsed

        open_lots = db.read(lambda c: c.execute(text(
            "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM lots"
            " WHERE remaining > 0 AND member_id = ANY(:m) GROUP BY member_id) AS per_member"),
            {"m": lot_members}).one())
        violations = verify(db)
        db.dispose()
    finally:
        drop_database(name)

    print(f"pgbench TPC-B: {args.workers} clients for {args.seconds}s…", flush=True)
    with PgBench(clients=args.workers, prepared=True) as pgbench:
        tps = pgbench.tps(args.seconds)
    print()
    if earn_rate is not None:
        print(f"ledger earns/s (8 procs):             {earn_rate:10.1f}")
    print(f"ledger redemptions/s ({args.lots}-lot members): {redeem_rate:8.1f}"
          f"   (open lots per member after the run: {open_lots[0]}-{open_lots[1]})")
    print(f"pgbench TPC-B tps (same server):      {tps:10.1f}")
    if earn_rate is not None:
        print(f"earn / TPC-B ratio:                   {earn_rate / tps:10.2f}   (target >= 0.5)")
    print(f"redeem / TPC-B ratio:                 {redeem_rate / tps:10.2f}   (target >= 0.5)")
    print(f"ledger verify after the run:          {'ok' if not violations else violations}")
    # Workers end before the second reading, and their PostgreSQL backends with them: the
    # workers' CPU is this process's children's, PostgreSQL's is what the machine spent beyond
    # them (other databases' work on a shared server included: an upper bound).
    workers_us = 1e6 * (redeem_cpu.hub + redeem_cpu.children) / redeems
    postgres_us = 1e6 * max(redeem_cpu.postgres, redeem_cpu.others) / redeems
    print(f"CPU per redemption: ledger workers {workers_us:,.0f} µs, PostgreSQL and the rest "
          f"of the machine {postgres_us:,.0f} µs (busy {redeem_cpu.busy / redeem_cpu.wall:.2f} "
          f"of {os.cpu_count()} cores)")
    own_us = [1e6 * sum(getattr(s, side) for s in spent) / redeems
              for side in ("worker", "backend")]
    print(f"CPU per redemption, this run's own processes: ledger workers {own_us[0]:,.0f} µs, "
          f"their PostgreSQL backends {own_us[1]:,.0f} µs")


if __name__ == "__main__":
    main()
