"""The wallet's two reads looked at from inside the hub's process: `me` over GraphQL (a bearer
token) and the /wallet page (a cookie), each request's statements, the hub's and PostgreSQL's CPU.

    .venv/bin/python -m infra.bench.wallet_probe --database pointsnet_bench_wallet_mine
        [--requests 500] [--member ID] [--show-sql] [--profile N]

Runs against a database `wallet_query --keep` built (1M members, 10M entries). Requests go
through the ASGI app from one event loop, one at a time, with no server or socket (as
`single_earn_probe` sends earns), so what is counted is the hub's own work: statements sent
(psycopg's `Cursor.execute`), this process's CPU, and the CPU of the PostgreSQL backends serving
the bench database (read from /proc, so other runs on a shared machine blur it far less than
they blur wall-clock percentiles). `--member` asks for one member every time (the 10,000-entry
one, say) instead of random ones. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import time

from infra.bench import wallet_query
from infra.bench.databases import database_url
from infra.bench.single_earn_probe import SENT, _backends_cpu, _count_statements, _Inline, _send
from infra.bench.wallet_query import ME_QUERY, SECRET, percentiles


def _sessions(url: str, ids: list[int]) -> list[tuple[str, str]]:
    """A bearer token and a page cookie for each member."""
    from network.clock import utcnow
    from network.db.engine import Database
    from network.hashing import Keys
    from network.signin import sessions

    db = Database(url)
    keys = Keys(SECRET)

    def create(conn):  # type: ignore[no-untyped-def]
        return [tuple(sessions.create(conn, keys, member_id=m, kind=kind, now=utcnow(),
                                      user_agent="probe", ip="127.0.0.1")[0]
                      for kind in ("bearer", "cookie")) for m in ids]

    made = db.write(create)
    db.dispose()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=wallet_query.NAME)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--member", type=int, help="the same member every time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-sql", action="store_true", help="statements a request, by text")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    args = parser.parse_args()
    url = database_url(args.database)
    wallet_query.use_database(args.database)
    top = wallet_query.counts()["members"]
    rng = random.Random(args.seed)
    warm_ids = [args.member or rng.randint(1, top) for _ in range(100)]
    ids = [args.member or rng.randint(1, top) for _ in range(args.requests)]
    warm, timed = _sessions(url, warm_ids), _sessions(url, ids)
    os.environ.update({"POINTSNET_DATABASE_URL": url, "POINTSNET_ENV": "development",
                       "POINTSNET_SECRET_KEY": SECRET, "POINTSNET_NOTIFY_INLINE_DRAIN": "0",
                       "POINTSNET_GRAPHQL_THREADS": "1"})
    from infra import graphql_endpoint
    from infra.asgi import app
    graphql_endpoint._thread_pool = lambda _threads: _Inline()  # type: ignore[assignment]
    _count_statements()
    body = json.dumps({"query": ME_QUERY}).encode()

    async def me(bearer: str) -> tuple[int, bytes]:
        return await _send(app, {"Authorization": f"Bearer {bearer}",
                                 "Content-Type": "application/json"}, body)

    async def page(cookie: str) -> tuple[int, bytes]:
        return await _send(app, {"Cookie": f"pn_session={cookie}"}, b"", method="GET",
                           path="/wallet")

    def ok(kind: str, status: int, answer: bytes) -> bool:
        if kind == "me":
            return status == 200 and b'"errors"' not in answer
        return status == 200 and b"balance-total" in answer

    async def run(kind: str, tokens: list[tuple[str, str]]) -> tuple[list[float], int]:
        walls, failures = [], 0
        for bearer, cookie in tokens:
            started = time.perf_counter()
            status, answer = await (me(bearer) if kind == "me" else page(cookie))
            walls.append(time.perf_counter() - started)
            failures += not ok(kind, status, answer)
        return walls, failures

    print(f"{args.database}: {top:,} members, {args.requests} requests each, "
          f"{'member ' + str(args.member) if args.member else 'random members'}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for kind in ("me", "page"):
        asyncio.run(run(kind, warm))
        SENT.clear()
        profile = cProfile.Profile(time.thread_time) if args.profile else None
        pg_before = _backends_cpu(url, args.database)
        started = time.process_time()
        if profile:
            profile.enable()
        walls, failures = asyncio.run(run(kind, timed))
        if profile:
            profile.disable()
        cpu = time.process_time() - started
        pg = _backends_cpu(url, args.database) - pg_before
        n = len(timed)
        label = "POST /graphql me" if kind == "me" else "GET /wallet"
        print(f"{label:<17} hub {1e6 * cpu / n:6,.0f} µs CPU, PostgreSQL {1e6 * pg / n:5,.0f} µs,"
              f" {sum(SENT.values()) / n:.2f} statements a request, failures {failures}; "
              f"wall {percentiles(walls)}")
        if args.show_sql:
            for text, count in SENT.most_common():
                print(f"  {count / n:5.2f}  {text}")
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
