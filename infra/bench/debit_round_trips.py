"""What one round trip instead of four would save a redemption: a measurement, not the hub's code.

    .venv/bin/python infra/bench/debit_round_trips.py [--members 8] [--lots 200]
        [--processes 4] [--redemptions 300] [--rounds 2]

A redemption today (network/ledger/pg_debit.py) is BEGIN, the claim, the booking statement and
COMMIT: four round trips on a pooled connection. This script puts the same two statements, as
pg_debit builds them, into one PL/pgSQL function on a throwaway database (inside a function each
statement takes its own snapshot, so the booking still reads the lots after the member's lock)
and calls it as one autocommit statement, the way `Database.pg_statement` sends the earn. It
alternates the two ways, `--processes` at once, and prints the CPU per redemption of the
redeeming processes and of their own PostgreSQL backends (/proc), which other runs on a shared
machine blur far less than rates. The function only exists here: the hub still books through
`pg_debit.try_debit`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
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

# pg_debit's parameters and their types, for the function's signature.
TYPES = {"lock_key": "bigint", "scope": "text", "key": "text", "digest": "text", "kind": "text",
         "consumption_kind": "text", "account": "text", "sink": "bigint", "sink_kind": "text",
         "member": "bigint", "points": "bigint", "reference": "text", "at": "timestamptz",
         "booked_at": "text", "earned": "bigint", "spent": "bigint"}


def function_sql() -> str:
    """pg_debit's two statements as one function returning the claim's and booking's rows."""
    from network.ledger import pg_debit

    def named(sql: str) -> str:  # %(member)s -> p_member: the function's arguments
        return re.sub(r"%\((\w+)\)s", lambda m: "p_" + m.group(1), sql)

    book = named(pg_debit._book("true"))
    into = book.replace(" FROM status LEFT JOIN remembered ON true",
                        " INTO v_book FROM status LEFT JOIN remembered ON true")
    assert into != book, "the booking statement's last FROM moved: update this script"
    args = ", ".join(f"p_{name} {kind}" for name, kind in TYPES.items())
    return f"""CREATE FUNCTION bench_debit({args}) RETURNS json LANGUAGE plpgsql AS $fn$
        DECLARE v_claim record; v_book record;
        BEGIN
          SELECT * INTO v_claim FROM ({named(pg_debit._CLAIM)}) AS claim;
          IF NOT v_claim.locked OR v_claim.request_hash IS NOT NULL
             OR NOT v_claim.member_found THEN
            RETURN json_build_object('claim', row_to_json(v_claim));
          END IF;
          {into};
          RETURN json_build_object('claim', row_to_json(v_claim), 'book', row_to_json(v_book));
        END $fn$"""


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
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(function_sql())


def _worker(url: str, way: str, count: int, seed: int, out: mp.Queue) -> None:
    from network import idempotency, ledger
    from network.clock import utcnow
    from network.db.engine import Database
    from network.ledger import summary
    from network.ledger.rules import iso

    db = Database(url, pool_size=1, max_overflow=0)
    conn = psycopg.connect(libpq(url), autocommit=True)
    partner, members = db.read(lambda c: (
        c.exec_driver_sql("SELECT id FROM parties WHERE kind = 'partner'").scalar_one(),
        [r[0] for r in c.exec_driver_sql("SELECT member_id FROM member_balances")]))
    if way == "four round trips":  # the pool's one connection runs every redemption
        backend = db.read(lambda c: c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    else:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    call = "SELECT bench_debit(" + ", ".join(f"%({name})s" for name in TYPES) + ")"
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]

    def redeem(i: int) -> None:
        member, points, key = rng.choice(members), rng.randint(1, 100), f"{run}-{i}"
        if way == "four round trips":
            ledger.redeem(db, scope=f"partner:{partner}", idempotency_key=key,
                          partner_id=partner, member_id=member, points=points)
            return
        # what spending._debit and try_debit do in Python, then the one statement
        scope, at = f"partner:{partner}", utcnow()
        params = {"member": member, "points": points, "sink": partner, "reference": None}
        args = {"lock_key": Int8(idempotency.advisory_key(scope, key)), "scope": scope,
                "key": key, "digest": idempotency.request_hash("redeem", params),
                "kind": "redeem", "consumption_kind": "redemption", "account": "redemption",
                "sink": Int8(partner), "sink_kind": "partner", "member": Int8(member),
                "points": Int8(points), "reference": None, "at": at, "booked_at": iso(at)}
        args["earned"], args["spent"] = (Int8(x) for x in summary.sides("redeem", points))
        answer = conn.execute(call, args, prepare=True).fetchone()[0]
        assert answer["book"]["new"] is not None, answer

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
            for way in ("four round trips", "one function call"):
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
    four, one = (figures[w] for w in ("four round trips", "one function call"))
    total = [sum(map(sum, rows)) / len(rows) for rows in (four, one)]
    print(f"one call / four round trips, CPU per redemption: processes "
          f"{sum(r[0] for r in one) / sum(r[0] for r in four):.2f}, backends "
          f"{sum(r[1] for r in one) / sum(r[1] for r in four):.2f}, both {total[1] / total[0]:.2f}")
    print(f"ledger verify after the run: {'ok' if not violations else violations}")


if __name__ == "__main__":
    main()
