"""What a redemption costs around its one call: the hub's `ledger.redeem` against the bare call.

    .venv/bin/python infra/bench/debit_round_trips.py [--members 8] [--lots 200]
        [--processes 4] [--redemptions 300] [--rounds 2]

A redemption is one statement, `SELECT … FROM ledger_debit(…)` (network/ledger/pg_debit.py;
until migration 0034 it was BEGIN, two statements and COMMIT, four round trips, and this script
showed what one call would save: about a third of the CPU). Here, on a throwaway database
of members with `--lots` open lots, `--processes` at once, it alternates the two ways of making
that same call: through the hub (`ledger.redeem`: checks, request hash, the observers' guard,
`Database.pg_statement`, the receipt) and bare (the arguments built once per redemption as
`try_debit` builds them, sent on a psycopg connection of its own). It prints the CPU per
redemption of the redeeming processes and of their own PostgreSQL backends (/proc), which
other runs on a shared machine blur far less than rates: the backends' figure is the
function's, the processes' difference is the hub's Python around the call.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg.types.numeric import Int8

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bench import cpu_split  # noqa: E402
from infra.bench.databases import create_database, drop_database, libpq  # noqa: E402

WAYS = ("ledger.redeem", "bare call")


def _seed(url: str, members: int, lots: int) -> None:
    from infra.migrate import upgrade
    from network import ledger, parties
    from network import members as members_
    from network.clock import utcnow
    from network.db.engine import Database

    upgrade(url)
    db = Database(url)
    partner = db.write(lambda c: parties.create(c, kind="partner", code="bench", name="Bench"))
    now = utcnow()
    for m in range(members):
        member = members_.enrol(db, secret="bench", scope="system", idempotency_key=f"m{m}",
                                enrolled_by=partner).id
        for i in range(lots):  # distinct expiries: a FIFO order to walk
            ledger.earn(db, scope=f"partner:{partner}", idempotency_key=f"l{member}-{i}",
                        issuer_id=partner, member_id=member, points=1000,
                        expires_at=now + timedelta(days=30 + i))
    db.dispose()


def _worker(url: str, way: str, count: int, seed: int, out: mp.Queue) -> None:
    from network import idempotency, ledger
    from network.clock import utcnow
    from network.db.engine import Database
    from network.ledger import pg_debit, summary
    from network.ledger.rules import iso

    db = Database(url, pool_size=1, max_overflow=0)
    conn = psycopg.connect(libpq(url), autocommit=True)
    partner, members = db.read(lambda c: (
        c.exec_driver_sql("SELECT id FROM parties WHERE kind = 'partner'").scalar_one(),
        [r[0] for r in c.exec_driver_sql("SELECT member_id FROM member_balances")]))
    if way == "ledger.redeem":  # the thread's statement connection runs every redemption
        backend = db.pg_statement("SELECT pg_backend_pid() AS pid", {}).pid
    else:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    call = pg_debit._call("true")
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]

    def redeem(i: int) -> None:
        member, points, key = rng.choice(members), rng.randint(1, 100), f"{run}-{i}"
        if way == "ledger.redeem":
            ledger.redeem(db, scope=f"partner:{partner}", idempotency_key=key,
                          partner_id=partner, member_id=member, points=points)
            return
        # the arguments as try_debit builds them, then the one statement
        scope, at = f"partner:{partner}", utcnow()
        params = {"member": member, "points": points, "sink": partner, "reference": None}
        args = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope,
                "key": key, "digest": idempotency.request_hash("redeem", params),
                "kind": "redeem", "consumption_kind": "redemption", "account": "redemption",
                "sink": Int8(partner), "sink_kind": "partner", "member": Int8(member),
                "points": Int8(points), "reference": None, "at": at, "booked_at": iso(at)}
        args["earned"], args["spent"] = (Int8(x) for x in summary.sides("redeem", points))
        answer = conn.execute(call, args, prepare=True).fetchone()[0]
        assert answer["outcome"] == "booked", answer

    for i in range(50):  # statements prepared, caches warm
        redeem(i)
    start = time.process_time(), cpu_split.backends([backend])
    for i in range(50, 50 + count):
        redeem(i)
    out.put((time.process_time() - start[0], cpu_split.backends([backend]) - start[1]))
    conn.close()
    db.dispose()


def measure(url: str, way: str, processes: int, count: int) -> tuple[float, float]:
    """µs of CPU per redemption: the redeeming processes', their backends'."""
    out: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_worker, args=(url, way, count, i, out))
             for i in range(processes)]
    for p in procs:
        p.start()
    spent = [out.get() for _ in procs]
    for p in procs:
        p.join()
    n = processes * count
    return (1e6 * sum(s[0] for s in spent) / n, 1e6 * sum(s[1] for s in spent) / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--lots", type=int, default=200)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--redemptions", type=int, default=300, help="per process and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from network.db.engine import Database
    from network.ledger.verify import verify

    name = f"pointsnet_bench_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    try:
        print(f"giving {args.members} members {args.lots} open lots each…", flush=True)
        _seed(url, args.members, args.lots)
        figures: dict[str, list[tuple[float, float]]] = {}
        for round_ in range(1, args.rounds + 1):
            for way in WAYS:
                client, backend = measure(url, way, args.processes, args.redemptions)
                figures.setdefault(way, []).append((client, backend))
                print(f"round {round_}, {way}: redeeming processes {client:,.0f} µs, their "
                      f"backends {backend:,.0f} µs of CPU per redemption "
                      f"(load {Path('/proc/loadavg').read_text().split()[0]})", flush=True)
        db = Database(url)
        violations = verify(db)
        db.dispose()
    finally:
        drop_database(name)
    hub, bare = (figures[w] for w in WAYS)
    total = [sum(map(sum, rows)) / len(rows) for rows in (hub, bare)]
    print(f"bare call / ledger.redeem, CPU per redemption: processes "
          f"{sum(r[0] for r in bare) / sum(r[0] for r in hub):.2f}, backends "
          f"{sum(r[1] for r in bare) / sum(r[1] for r in hub):.2f}, both {total[1] / total[0]:.2f}")
    print(f"ledger verify after the run: {'ok' if not violations else violations}")


if __name__ == "__main__":
    main()
