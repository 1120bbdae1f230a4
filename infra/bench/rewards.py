"""Catalog benchmark: buying one popular coupon (16 members at once, closed loop, each purchase
one ledger operation taking stock on the same reward row) through uvicorn on 127.0.0.1 against
PostgreSQL, with pgbench TPC-B measured in the same run as the yardstick; then the member's
catalog page with 500 rewards. Each round also prints where the CPU went per purchase (the
hub's processes, the PostgreSQL backends serving this database, the load generator:
infra/bench/cpu_split.py).

    .venv/bin/python infra/bench/rewards.py [--seconds 5] [--rounds 3] [--concurrency 16]
        [--workers 2] [--rewards 500] [--page-requests 400]

Prints figures; asserts nothing (benchmarks are not tests). Uses throwaway databases on the
PostgreSQL at POINTSNET_BENCH_PG_URL (see infra/bench/databases.py) and drops them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from graphql_relay import to_global_id  # noqa: E402
from sqlalchemy import text  # noqa: E402

from infra.bench import cpu_split  # noqa: E402
from infra.bench.databases import PgBench, create_database, drop_database  # noqa: E402
from infra.bench.partner_api import RawConnection, percentile, start_server  # noqa: E402
from infra.migrate import upgrade  # noqa: E402
from network import cards, ledger, members  # noqa: E402
from network.clock import utcnow  # noqa: E402
from network.db.engine import Database  # noqa: E402
from network.hashing import Keys  # noqa: E402
from network.ledger.verify import verify  # noqa: E402
from network.programme import rewards_store  # noqa: E402
from network.programme.rewards import RewardSpec  # noqa: E402
from network.signin import sessions  # noqa: E402
from partners.registry import create_partner  # noqa: E402
from partners.terms import Terms  # noqa: E402

SECRET = "bench-secret"  # start_server's
BUY = (ROOT / "graphql/operations/member/BuyReward.graphql").read_text()


@dataclass
class World:
    url: str
    popular: str  # its Reward id
    tokens: list[str]  # bearer tokens, one per member
    cookie: str  # a cookie session for the catalog page


def build_world(name: str, buyers: int, catalog: int, stock: int | None) -> World:
    url = create_database(name)
    upgrade(url)
    db = Database(url)
    now = utcnow()
    partner = db.write(lambda c: create_partner(c, code="cafe", name="Cafe",
                                                terms=Terms(earn_points_per_unit=Decimal(1)),
                                                now=now).id)
    tokens, cookie = [], ""
    for i in range(buyers):
        member = members.enrol(db, secret=SECRET, scope="system", idempotency_key=f"m{i}",
                               enrolled_by=partner, card_number=cards.generate())
        ledger.earn(db, scope="seed", idempotency_key=f"s{i}", issuer_id=partner,
                    member_id=member.id, points=100_000_000)
        tokens.append(db.write(lambda c, m=member.id: sessions.create(
            c, Keys(SECRET), member_id=m, kind="bearer", now=now, user_agent="bench",
            ip="127.0.0.1"))[0])
        if i == 0:
            cookie = db.write(lambda c, m=member.id: sessions.create(
                c, Keys(SECRET), member_id=m, kind="cookie", now=now, user_agent="bench",
                ip="127.0.0.1"))[0]
    popular = 0
    for n in range(catalog):
        made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
            kind="coupon", name_en=f"Reward {n}", name_fa=f"جایزه {n}", price_points=10,
            description_en="A reward.", description_fa="یک جایزه.",
            stock=stock if n == 0 else 100), scope="bench", idempotency_key=f"r{n}")
        rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                                 scope="bench", idempotency_key=f"a{n}")
        popular = popular or made.id
    db.dispose()
    return World(url, to_global_id("Reward", str(popular)), tokens, cookie)


async def buy_loop(base: str, world: World, seconds: float) -> tuple[float, list[float], int]:
    """Each member buys the popular coupon again and again, one request in flight each."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def member(token: str) -> None:
        nonlocal failures
        connection = RawConnection(host, int(port))
        await connection.open()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while time.perf_counter() < deadline:
            body = json.dumps({"query": BUY, "variables": {
                "rewardId": world.popular, "idempotencyKey": uuid.uuid4().hex}}).encode()
            started = time.perf_counter()
            status, answer = await connection.post("/graphql", headers, body)
            latencies.append(time.perf_counter() - started)
            if status != 200 or b'"userErrors":[]' not in answer:
                failures += 1
        connection.writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(member(t) for t in world.tokens))
    return len(latencies) / (time.perf_counter() - started), latencies, failures


async def page_loop(base: str, world: World, requests: int) -> tuple[list[float], int]:
    """The catalog page, one request at a time (latency, not throughput)."""
    host, port = base.removeprefix("http://").split(":")
    connection = RawConnection(host, int(port))
    await connection.open()
    headers = {"Cookie": f"__Host-pn_session={world.cookie}", "Accept-Language": "fa"}
    latencies, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        status, page = await connection.get("/wallet/rewards", headers)
        latencies.append(time.perf_counter() - started)
        assert status == 200, page[:300]
        size = len(page)
    connection.writer.close()
    return latencies, size


async def _get(self: RawConnection, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    head = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    status_line = await self.reader.readline()
    length = 0
    while (line := await self.reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return int(status_line.split()[1]), await self.reader.readexactly(length)


RawConnection.get = _get  # type: ignore[attr-defined]


def hub_backends(url: str) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (the hub's pooled
    connections, open after the warm-up): on a machine other runs share, the CPU of every
    postgres process says little about this run's."""
    db = Database(url)
    pids = db.read(lambda c: list(c.execute(text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()")).scalars()))
    db.dispose()
    return pids


def backends_cpu(pids: list[int]) -> float:
    """CPU seconds of those backends still running (one that ended took its CPU with it)."""
    return sum(cpu_split.backends([pid]) for pid in pids if Path(f"/proc/{pid}").exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16, help="members buying at once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rewards", type=int, default=500, help="rewards in the catalog")
    parser.add_argument("--page-requests", type=int, default=400)
    parser.add_argument("--unlimited", action="store_true",
                        help="the popular coupon has unlimited stock (its row is not written)")
    args = parser.parse_args()
    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, args.concurrency, args.rewards,
                        None if args.unlimited else 10_000_000)
    server, base = start_server(world, args.workers)  # type: ignore[arg-type]
    try:
        with PgBench(clients=16, prepared=False) as pgbench:
            asyncio.run(buy_loop(base, world, 1))  # warm-up
            ratios = []
            for number in range(1, args.rounds + 1):
                tps = pgbench.tps(int(args.seconds))
                pids = hub_backends(world.url)
                before, backends_before = cpu_split.read(server.pid), backends_cpu(pids)
                rate, latencies, failures = asyncio.run(buy_loop(base, world, args.seconds))
                spent = dataclasses.replace(cpu_split.read(server.pid) - before,
                                            postgres=backends_cpu(pids) - backends_before)
                ratios.append(rate / tps)
                print(f"round {number}: pgbench TPC-B (scale 10, 16 clients) {tps:,.0f} tps; "
                      f"buyReward, one popular coupon "
                      f"({'unlimited' if args.unlimited else 'limited'} stock), "
                      f"{args.concurrency} members closed loop, "
                      f"{args.workers} uvicorn workers: {rate:,.0f} purchases/s, "
                      f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
                      f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, failures {failures}; "
                      f"ratio {rate / tps:.2f}", flush=True)
                print(f"  {cpu_split.summary(spent, len(latencies), 'purchase')}", flush=True)
        print(f"buyReward hot path: median ratio {statistics.median(ratios):.2f} x pgbench "
              f"TPC-B tps over {args.rounds} rounds (target >= 0.30)")
        asyncio.run(page_loop(base, world, 20))  # warm-up
        latencies, size = asyncio.run(page_loop(base, world, args.page_requests))
        print(f"catalog page (/wallet/rewards, Persian, {args.rewards} rewards, {size:,} bytes): "
              f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms over {len(latencies)} requests "
              f"(target p99 < 20 ms)")
        db = Database(world.url)
        print(f"ledger verify after the run: {len(verify(db))} violations")
        db.dispose()
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_database(name)


if __name__ == "__main__":
    main()
