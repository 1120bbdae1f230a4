"""Wallet query latency: 1 million members, 10 million journal entries, PostgreSQL, one client.

    .venv/bin/python -m infra.bench.wallet_query [--members 1000000] [--entries-per-member 10]
                                                 [--samples 3000] [--reuse] [--keep]
                                                 [--database pointsnet_bench_wallet]

Builds (or with --reuse, reuses) the database `pointsnet_bench_wallet` on POINTSNET_BENCH_PG_URL
(default postgres@127.0.0.1:5432) with generate_series: members with encrypted emails, 20
partners, 3 charities, a per-member exponential number of entries (earn 70%, redeem 25%, donate
5%, plus ~1% earn reversals), both postings of every entry, a lot per earn, balance rows.
Then, from a single client, times the member's whole wallet as the page and `me` read it --
balance split, expiring in 90 days, tier, earned/spent per partner, first history page of 20
with wallet effects and reversal links -- for random members, and prints p50/p90/p99/max for
the read model (network.wallet.view.load) and for the GraphQL `me` query executed in-process.
Prints figures; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import timedelta

import psycopg
from graphql import parse

from infra.bench import databases
from infra.bench.databases import create_database, drop_database, libpq
from network.ledger import summary

NAME = "pointsnet_bench_wallet"
SECRET = "bench-secret"
ME_QUERY = """{ me { cardNumber displayName
  wallet { total spendable pending held debt pendingLots { points at } expiring { points at }
           tier { name earned nextName remaining }
           partners { party { code name } earned spent } }
  history(first: 20) { pageInfo { hasNextPage endCursor }
    edges { node { id kind points walletPoints reference bookedAt party { code name }
                   reverses { id } } } } } }"""


def use_database(name: str) -> None:
    """Another name than the default, so two people can keep their own bench databases."""
    global NAME
    NAME = name


def database_url() -> str:
    return databases.database_url(NAME)


def step(label: str, conn: psycopg.Connection, sql: str, params: dict | None = None) -> None:
    started = time.perf_counter()
    cursor = conn.execute(sql, params or {})
    rows = cursor.rowcount
    conn.commit()
    print(f"  {label:<38} {rows:>11,} rows {time.perf_counter() - started:7.1f} s", flush=True)


# The sums the ledger's writers keep beside each entry (network/ledger/summary.py), here made in
# one pass over the generated entries; `where` picks the entries.
_WALLET_SUMS = f"""
    INSERT INTO wallet_summary (member_id, party_id, earned, spent)
    SELECT member_id, party_id, sum({summary.earned_sql("kind", "points")}),
           sum({summary.spent_sql("kind", "points")})
    FROM journal_entries WHERE party_id IS NOT NULL AND {{where}} GROUP BY member_id, party_id"""
_WALLET_DAYS = f"""
    INSERT INTO wallet_earned_days (member_id, day, earned)
    SELECT member_id, CAST(timezone('UTC', booked_at) AS date),
           sum({summary.earned_sql("kind", "points")})
    FROM journal_entries WHERE kind IN {tuple(summary.EARNED)} AND {{where}}
    GROUP BY member_id, CAST(timezone('UTC', booked_at) AS date)"""


def build(members: int, per_member: float, seed: float) -> None:
    from infra.migrate import upgrade
    from network import pii

    upgrade(create_database(NAME))
    cipher = pii.encrypt(SECRET, "member@example.com")
    print(f"building {members:,} members x ~{per_member} entries in {NAME}", flush=True)
    with psycopg.connect(libpq(database_url())) as conn:
        tables = ("members", "member_balances", "journal_entries", "postings", "lots")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename = ANY(%s) AND indexname NOT LIKE 'pk_%%' "
            "AND indexname NOT LIKE 'uq_%%'", (list(tables),)).fetchall()
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid::regclass::text = ANY(%s)",
            (list(tables),)).fetchall()
        for table, name, _ in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("SELECT setseed(%s)", (seed,))
        step("parties", conn, """
            INSERT INTO parties (kind, code, name, name_fa, created_at)
            SELECT CASE WHEN i <= 20 THEN 'partner' ELSE 'charity' END, 'bench-' || i,
                   CASE WHEN i <= 20 THEN 'Partner ' || i ELSE 'Charity ' || i END,
                   'همکار ' || i, now() - interval '5 years'
            FROM generate_series(1, 23) i""")
        step("members", conn, """
            INSERT INTO members (id, card_number, email_cipher, email_lookup, display_name,
                                 locale, created_at, referral_code)
            SELECT i, '70' || lpad(i::text, 14, '0'), %(cipher)s, md5('bench' || i),
                   'Member ' || i, CASE WHEN i %% 3 = 0 THEN 'fa' ELSE 'en' END,
                   now() - interval '3 years', 'B' || lpad(i::text, 9, '0')
            FROM generate_series(1, %(members)s) i""", {"cipher": cipher, "members": members})
        step("journal_entries", conn, """
            INSERT INTO journal_entries (member_id, kind, party_id, points, reference, booked_at)
            SELECT m, CASE WHEN r < 0.70 THEN 'earn' WHEN r < 0.95 THEN 'redeem'
                           ELSE 'donate' END,
                   (SELECT min(id) FROM parties WHERE code LIKE 'bench-%%')
                     + CASE WHEN r < 0.95 THEN floor(r2 * 20)::int ELSE 20 + floor(r2 * 3)::int END,
                   1 + floor(r3 * 500)::int, 'R-' || m || '-' || g,
                   now() - r4 * interval '730 days'
            FROM (SELECT m, floor(-ln(1 - random()) * %(mean)s)::int AS n
                  FROM generate_series(1, %(members)s) m) plan,
                 LATERAL generate_series(1, plan.n) g,
                 LATERAL (SELECT random() + 0 * g AS r, random() + 0 * g AS r2,
                                 random() + 0 * g AS r3, random() + 0 * g AS r4) x
            ORDER BY 6""", {"mean": per_member + 0.5, "members": members})
        step("earn reversals (~1% of earns)", conn, """
            INSERT INTO journal_entries (member_id, kind, party_id, points, reverses_entry_id,
                                         booked_at)
            SELECT member_id, 'reverse_earn', party_id, greatest(1, points / 2), id,
                   least(now(), booked_at + interval '3 days')
            FROM journal_entries WHERE kind = 'earn' AND random() < 0.01""")
        step("postings (two per entry)", conn, """
            INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
            SELECT id, 'member_wallet', member_id, NULL,
                   CASE WHEN kind = 'earn' THEN points ELSE -points END FROM journal_entries
            UNION ALL
            SELECT id, CASE kind WHEN 'earn' THEN 'issuance' WHEN 'reverse_earn' THEN 'issuance'
                                 WHEN 'redeem' THEN 'redemption' ELSE 'donation' END,
                   member_id, party_id,  -- every posting carries its entry's member
                   CASE WHEN kind = 'earn' THEN -points ELSE points END
            FROM journal_entries""")
        step("lots (one per earn)", conn, """
            INSERT INTO lots (member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                              expires_at, created_at)
            SELECT member_id, id, party_id, points, floor(points * random())::int,
                   booked_at + interval '14 days', booked_at + interval '24 months', booked_at
            FROM journal_entries WHERE kind = 'earn'""")
        step("member_balances", conn, """
            INSERT INTO member_balances (member_id, balance, held, debt, updated_at)
            SELECT m.id, coalesce(s.total, 0), 0, 0, now()
            FROM members m LEFT JOIN (SELECT member_id, sum(remaining) AS total FROM lots
                                      GROUP BY member_id) s ON s.member_id = m.id""")
        step("wallet sums (as the writers keep them)", conn, _WALLET_SUMS.format(where="true"))
        step("wallet earned days", conn, _WALLET_DAYS.format(where="true"))
        for table in ("members", "journal_entries", "postings", "lots", "parties"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        conn.commit()
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        for table, name, definition in constraints:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.commit()
        print(f"  {'indexes and constraints':<38} {len(indexes) + len(constraints):>11,} "
              f"made {time.perf_counter() - started:7.1f} s", flush=True)
    with psycopg.connect(libpq(database_url()), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        print(f"  {'vacuum analyze':<38} {'':>11} {time.perf_counter() - started:12.1f} s",
              flush=True)


def prewarm() -> None:
    """Read the wallet's tables and indexes once so the figures are for a warm server.

    pg_prewarm's 'read' mode fills the OS page cache (shared_buffers here is 128 MB); a hub in
    service has its members' pages hot, and a cold first read measures the disk, not the query.
    """
    relations = ("members", "pk_members", "member_balances", "pk_member_balances", "parties",
                 "journal_entries", "ix_journal_entries_member_booked",
                 "ix_journal_entries_reverses", "lots", "ix_lots_member_open", "wallet_summary",
                 "pk_wallet_summary", "wallet_earned_days", "pk_wallet_earned_days")
    started = time.perf_counter()
    with psycopg.connect(libpq(database_url()), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        blocks = 0
        for name in relations:
            row = conn.execute("SELECT pg_prewarm(%s, 'read')", (name,)).fetchone()
            blocks += int(row[0]) if row else 0
    print(f"prewarmed {blocks * 8 / 1024 / 1024:.1f} GB of tables and indexes into the OS cache "
          f"in {time.perf_counter() - started:.1f} s")


def counts() -> dict[str, int]:
    with psycopg.connect(libpq(database_url())) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                for t in ("members", "journal_entries", "postings", "lots")}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (f"p50 {at(0.50):6.2f} ms  p90 {at(0.90):6.2f} ms  p99 {at(0.99):6.2f} ms  "
            f"max {ordered[-1] * 1000:6.2f} ms  mean {statistics.fmean(ordered) * 1000:6.2f} ms")


def measure(members: int, samples: int, seed: int) -> None:
    from infra.schema import schema
    from network.auth import MemberPrincipal
    from network.clock import utcnow
    from network.config import Settings
    from network.db.engine import Database
    from network.gql.context import RequestContext
    from network.wallet import reads, view

    db = Database(database_url(), pool_size=1, max_overflow=0)
    settings = Settings(database_url=database_url(), secret_key=SECRET)
    rng = random.Random(seed)
    now = utcnow()
    warm = [rng.randint(1, members) for _ in range(min(samples, 500))]
    for member_id in warm:  # connection, plan caches; pages of *other* members stay cold-ish
        reads.snapshot(db, view.load, member_id, SECRET, now)
    ids = [rng.randint(1, members) for _ in range(samples)]
    model: list[float] = []
    sizes: list[int] = []
    for member_id in ids:
        started = time.perf_counter()
        loaded = reads.snapshot(db, view.load, member_id, SECRET, now)
        model.append(time.perf_counter() - started)
        assert loaded is not None
        sizes.append(len(loaded.history.entries))
    document = parse(ME_QUERY)
    graph: list[float] = []
    from graphql import ExecutionResult, execute
    for member_id in ids:
        context = RequestContext(db=db, settings=settings,
                                 principal=MemberPrincipal(member_id=member_id), now=now)
        started = time.perf_counter()
        result = execute(schema.graphql_schema, document, context_value=context)
        graph.append(time.perf_counter() - started)
        assert isinstance(result, ExecutionResult) and not result.errors, result
    heavy = max(range(len(ids)), key=lambda i: model[i])
    print(f"\nwallet query, single client, {samples:,} random members "
          f"(avg {statistics.fmean(sizes):.1f} entries on the first page):")
    print(f"  {'read model (view.load, one snapshot)':<42}{percentiles(model)}")
    print(f"  {'GraphQL me (validated document, in-proc)':<42}{percentiles(graph)}")
    print(f"  slowest read: member {ids[heavy]} ({model[heavy] * 1000:.2f} ms)")
    db.dispose()


def measure_http(members: int, samples: int, seed: int) -> None:
    """The same reads as a client sees them: uvicorn on 127.0.0.1, keep-alive, one request at a
    time -- POST /graphql `me` with a bearer token, and GET /wallet (the HTML page) with a cookie.
    """
    import socket
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from network.clock import utcnow
    from network.db.engine import Database
    from network.hashing import Keys
    from network.signin import sessions

    rng = random.Random(seed + 1)
    ids = [rng.randint(1, members) for _ in range(samples)]
    db = Database(database_url())
    keys = Keys(SECRET)

    def open_sessions(conn):  # type: ignore[no-untyped-def]
        return [(sessions.create(conn, keys, member_id=m, kind="bearer", now=utcnow(),
                                 user_agent="bench", ip="127.0.0.1")[0],
                 sessions.create(conn, keys, member_id=m, kind="cookie", now=utcnow(),
                                 user_agent="bench", ip="127.0.0.1")[0]) for m in ids]

    tokens = db.write(open_sessions)
    db.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "POINTSNET_DATABASE_URL": database_url(), "POINTSNET_ENV": "development",
           "POINTSNET_SECRET_KEY": SECRET, "POINTSNET_NOTIFY_INLINE_DRAIN": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "infra.asgi:app", "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "warning", "--no-access-log"],
        cwd=Path(__file__).resolve().parents[2], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            # Up to a minute for uvicorn to start: on a loaded shared machine importing the app
            # alone took longer than the 15 s the earlier 300 tries of 50 ms allowed.
            ready_by = time.monotonic() + 60
            while time.monotonic() < ready_by:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            graph: list[float] = []
            page: list[float] = []
            warmup = min(200, len(tokens) // 4)  # the first requests warm caches: not measured
            for warm, (bearer, cookie) in enumerate(tokens):
                started = time.perf_counter()
                response = client.post("/graphql", json={"query": ME_QUERY},
                                       headers={"Authorization": f"Bearer {bearer}"})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200 and "errors" not in response.json(), \
                    response.text[:300]
                started = time.perf_counter()
                html = client.get("/wallet", cookies={"pn_session": cookie})
                page_elapsed = time.perf_counter() - started
                assert html.status_code == 200 and "balance-total" in html.text
                if warm >= warmup:
                    graph.append(elapsed)
                    page.append(page_elapsed)
        print(f"\nover HTTP (uvicorn, 1 worker, keep-alive), {len(graph):,} random members:")
        print(f"  {'POST /graphql me (bearer token)':<42}{percentiles(graph)}")
        print(f"  {'GET /wallet page (cookie, HTML)':<42}{percentiles(page)}")
    finally:
        server.terminate()
        server.wait(timeout=10)


HEAVY_ENTRIES = 10_000


def heavy_member() -> int:
    """A member with 10,000 entries (earns, redemptions, donations over two years, a lot per
    earn, most of them spent), added once to the bench database: the wallet's plan must stay
    flat as one member's history grows."""
    with psycopg.connect(libpq(database_url())) as conn:
        found = conn.execute("SELECT id FROM members WHERE card_number = 'heavy'").fetchone()
        if found:
            return int(found[0])
        member_id = conn.execute(
            "INSERT INTO members (card_number, display_name, locale, created_at, referral_code) "
            "VALUES ('heavy', 'Heavy', 'en', now() - interval '3 years', 'HEAVY0001') "
            "RETURNING id").fetchone()[0]  # type: ignore[index]
        conn.execute("""
            INSERT INTO journal_entries (member_id, kind, party_id, points, reference, booked_at)
            SELECT %(m)s, CASE WHEN g %% 10 < 7 THEN 'earn' WHEN g %% 10 < 9 THEN 'redeem'
                               ELSE 'donate' END,
                   (SELECT min(id) FROM parties WHERE code LIKE 'bench-%%')
                     + CASE WHEN g %% 10 < 9 THEN g %% 20 ELSE 20 + g %% 3 END,
                   1 + g %% 500, 'H-' || g, now() - (g * interval '100 minutes')
            FROM generate_series(1, %(n)s) g""", {"m": member_id, "n": HEAVY_ENTRIES})
        conn.execute("""
            INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
            SELECT id, 'member_wallet', member_id, NULL,
                   CASE WHEN kind = 'earn' THEN points ELSE -points END
            FROM journal_entries WHERE member_id = %(m)s
            UNION ALL
            SELECT id, CASE kind WHEN 'earn' THEN 'issuance' WHEN 'redeem' THEN 'redemption'
                                 ELSE 'donation' END, member_id, party_id,
                   CASE WHEN kind = 'earn' THEN -points ELSE points END
            FROM journal_entries WHERE member_id = %(m)s""", {"m": member_id})
        conn.execute("""
            INSERT INTO lots (member_id, entry_id, issuer_party_id, points, remaining, vests_at,
                              expires_at, created_at)
            SELECT member_id, id, party_id, points,
                   CASE WHEN booked_at > now() - interval '30 days' THEN points ELSE 0 END,
                   booked_at + interval '14 days', booked_at + interval '24 months', booked_at
            FROM journal_entries WHERE member_id = %(m)s AND kind = 'earn'""", {"m": member_id})
        for sums in (_WALLET_SUMS, _WALLET_DAYS):
            conn.execute(sums.format(where="member_id = %(m)s"), {"m": member_id})
        conn.execute("""
            INSERT INTO member_balances (member_id, balance, held, debt, updated_at)
            SELECT %(m)s, coalesce(sum(remaining), 0), 0, 0, now() FROM lots
            WHERE member_id = %(m)s""", {"m": member_id})
        conn.commit()
    with psycopg.connect(libpq(database_url()), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE journal_entries, lots, postings")
    return int(member_id)


def measure_growth(samples: int) -> None:
    """The read model for a 10-entry member against the 10,000-entry one, interleaved."""
    from network.clock import utcnow
    from network.db.engine import Database
    from network.wallet import reads, view

    heavy = heavy_member()
    with psycopg.connect(libpq(database_url())) as conn:
        light = int(conn.execute(  # type: ignore[index]
            "SELECT member_id FROM journal_entries WHERE member_id < 1000 GROUP BY member_id "
            "HAVING count(*) = 10 LIMIT 1").fetchone()[0])
    db = Database(database_url(), pool_size=1, max_overflow=0)
    now = utcnow()
    times: dict[int, list[float]] = {light: [], heavy: []}
    for i in range(samples + 50):
        for member_id in (light, heavy):
            started = time.perf_counter()
            reads.snapshot(db, view.load, member_id, SECRET, now)
            if i >= 50:  # the first reads warm plans and pages
                times[member_id].append(time.perf_counter() - started)
    db.dispose()
    light_p50 = statistics.median(times[light])
    heavy_p50 = statistics.median(times[heavy])
    print(f"\nhistory growth, read model, {samples} reads each, interleaved:")
    print(f"  {'member with 10 entries':<42}{percentiles(times[light])}")
    print(f"  {'member with 10,000 entries':<42}{percentiles(times[heavy])}")
    print(f"  10,000 / 10 entries p50 ratio: {heavy_p50 / light_p50:.2f}   (target <= 2)")


def explain(member_id: int) -> None:
    """The plans behind the figures, for the member the bench found slowest or a given one."""
    with psycopg.connect(libpq(database_url())) as conn:
        for label, sql in (
            ("history page", "SELECT id FROM journal_entries WHERE member_id = %(m)s "
                             "ORDER BY booked_at DESC, id DESC LIMIT 21"),
            ("per partner", "SELECT party_id, earned, spent FROM wallet_summary "
                            "WHERE member_id = %(m)s"),
            ("tier window", "SELECT sum(earned) FROM wallet_earned_days "
                            "WHERE member_id = %(m)s AND day > current_date - 365"),
            ("open lots", "SELECT remaining FROM lots WHERE member_id = %(m)s AND remaining > 0"),
        ):
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql,
                                {"m": member_id}).fetchall()
            print(f"\n{label}:\n" + "\n".join("  " + row[0] for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries-per-member", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="measure an existing bench database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--cold", action="store_true", help="skip pg_prewarm")
    parser.add_argument("--no-http", action="store_true", help="skip the uvicorn measurement")
    parser.add_argument("--explain", type=int, metavar="MEMBER_ID", help="print query plans")
    parser.add_argument("--no-growth", action="store_true",
                        help="skip the 10 vs 10,000 entries comparison")
    parser.add_argument("--database", default=NAME, help=f"bench database (default {NAME})")
    args = parser.parse_args()
    use_database(args.database)
    started = time.perf_counter()
    if not args.reuse:
        build(args.members, args.entries_per_member, seed=0.5)
        print(f"built in {timedelta(seconds=round(time.perf_counter() - started))}")
    sizes = counts()
    print("  " + ", ".join(f"{table} {n:,}" for table, n in sizes.items()))
    if not args.cold:
        prewarm()
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    measure(sizes["members"], args.samples, args.seed)
    if not args.no_growth:
        measure_growth(min(args.samples, 500))
    if not args.no_http:
        measure_http(sizes["members"], min(args.samples, 2200), args.seed)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.explain:
        explain(args.explain)
    if not args.keep and not args.reuse:
        drop_database(NAME)
        print(f"dropped {NAME} (pass --keep to reuse it with --reuse)")
    print("\ncommand: .venv/bin/python -m infra.bench.wallet_query " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
        if v not in (False, None) and k not in ("reuse", "keep", "explain", "database")))


if __name__ == "__main__":
    main()
