"""One signed single earn, looked at from inside the hub's process: statements per request, the
hub's and PostgreSQL's CPU per request, and on request a profile, the pieces alone, a plan.

    .venv/bin/python -m infra.bench.single_earn_probe [--requests 500] [--show-sql]
        [--profile N] [--parts] [--explain]

The same world and signed requests as `partner_api.py` (its `build_world` and `presign`), sent
through the ASGI app straight from one event loop (no uvicorn, no sockets), one at a time, the
endpoint's thread hop replaced by a call in the same thread (so cProfile sees the work). CPU per
request is this process's (the hub's code and psycopg's client side) and that of the PostgreSQL
backends serving the probe's own database, read from /proc, so other runs on the server do not
blur it: an A/B of one change (a local edit, run alternately) reads differences of a few percent
that `partner_api.py`'s machine-wide split loses when others share the machine. Every statement
a request sends is counted (psycopg's `Cursor.execute`, which SQLAlchemy's calls go through too):
the aim is one round trip per request. `--profile` measures thread CPU time, inflated by the
profiler's own cost on small calls. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import cProfile
import os
import pstats
import time
import uuid

import psycopg
from psycopg.types.numeric import Int8
from sqlalchemy import create_engine, text

from infra.bench.cpu_split import _process_cpu
from infra.bench.databases import drop_database
from infra.bench.partner_api import build_world, presign

SENT: collections.Counter[str] = collections.Counter()
EARNS: list[tuple[str, dict]] = []  # the last earn statement sent, for --explain


def _backends_cpu(url: str, database: str) -> float:
    """CPU seconds so far of the PostgreSQL backends serving `database` (this probe's own)."""
    engine = create_engine(url.replace("/" + database, "/postgres"))
    with engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                            {"d": database}).scalars().all()
    engine.dispose()
    total = 0.0
    for pid in pids:
        try:
            total += _process_cpu(open(f"/proc/{pid}/stat").read())
        except OSError:
            pass
    return total


class _Inline(concurrent.futures.Executor):
    """The endpoint's thread pool replaced by running the work in the caller's thread, so that
    cProfile (which sees one thread) sees the request's work."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting coroutine
            future.set_exception(error)
        return future


def _count_statements() -> None:
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        text = query if isinstance(query, str) else str(query)
        SENT[" ".join(text.split())[:90]] += 1
        if text.startswith("WITH claim"):
            EARNS[:] = [(text, dict(params or {}))]
        return original(self, query, params, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]


async def _send(app, headers: dict[str, str], body: bytes, *, method: str = "POST",  # type: ignore[no-untyped-def]
                path: str = "/graphql") -> tuple[int, bytes]:
    """One request through the ASGI app, no server or socket; the status and the body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
             "client": ("127.0.0.1", 50000),
             "headers": [(b"host", b"127.0.0.1:8000"), (b"content-length", str(len(body)).encode())]
             + [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    sent = False
    status, chunks = 0, []

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _cpu_per_call(fn, n: int = 2000) -> float:  # type: ignore[no-untyped-def]
    for _ in range(100):
        fn()
    started = time.process_time()
    for _ in range(n):
        fn()
    return 1e6 * (time.process_time() - started) / n


def _parts(world, headers: dict[str, str], body: bytes) -> None:  # type: ignore[no-untyped-def]
    """CPU of the pieces every request pays, each alone: what the hub's budget is spent on."""
    from network.db.engine import Database
    from partners.authenticator import _choose
    from partners.signatures import (
        HttpRequest,
        load_private_key,
        verify_content_digest,
        verify_parsed,
    )

    message = HttpRequest("POST", "http://127.0.0.1:8000/graphql",
                          [(k.lower(), v) for k, v in headers.items()], body)
    parsed = _choose(message)
    public = load_private_key(world.pem).public_key()
    db = Database(world.url)
    try:
        figures = {
            "a round trip (SELECT 1 on the statement connection)":
                lambda: db.pg_statement("SELECT 1 AS one", {}),
            "an empty Database.read": lambda: db.read(lambda _conn: None),
            "parsing Signature-Input and Signature": lambda: _choose(message),
            "the signature base and the Ed25519 verification":
                lambda: verify_parsed(message, parsed, public),
            "the Content-Digest check":
                lambda: verify_content_digest(message.header("content-digest"), body),
        }
        for label, fn in figures.items():
            print(f"  {label}: {_cpu_per_call(fn):,.0f} µs")
    finally:
        db.dispose()


def _explain(url: str) -> None:
    """EXPLAIN ANALYZE of the last earn statement with a fresh idempotency key, rolled back."""
    sql, params = EARNS[-1]
    params = {**params, "key": uuid.uuid4().hex, "lock_key": Int8(uuid.uuid4().int % 2**62)}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for row in conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params):
            print("  " + row[0])
        conn.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE one more earn statement (rolled back)")
    parser.add_argument("--parts", action="store_true",
                        help="also time the pieces every request pays, each alone")
    args = parser.parse_args()
    name = f"pointsnet_bench_probe_{uuid.uuid4().hex[:8]}"
    world = build_world(name, 5000)
    os.environ.update({"POINTSNET_DATABASE_URL": world.url, "POINTSNET_ENV": "production",
                       "POINTSNET_SECRET_KEY": "bench-secret", "POINTSNET_GRAPHQL_THREADS": "1"})
    try:
        from infra import graphql_endpoint
        from infra.asgi import app
        graphql_endpoint._thread_pool = lambda _threads: _Inline()  # type: ignore[assignment]
        _count_statements()
        url = "http://127.0.0.1:8000/graphql"
        warm = presign(world, url, 200)
        timed = presign(world, url, args.requests)

        async def run(requests) -> list[int]:  # type: ignore[no-untyped-def]
            statuses = []
            for headers, body in requests:
                status, answer = await _send(app, headers, body)
                statuses.append(status if b'"userErrors":[]' in answer else -status)
            return statuses

        asyncio.run(run(warm))
        SENT.clear()
        profile = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not wall
        pg_before = _backends_cpu(world.url, name)
        started = time.process_time()
        if profile:
            profile.enable()
        statuses = asyncio.run(run(timed))
        if profile:
            profile.disable()
        cpu = time.process_time() - started
        pg = _backends_cpu(world.url, name) - pg_before
        n = len(timed)
        print(f"{n} signed single earns in one process: {1e6 * cpu / n:,.0f} µs of CPU a request"
              f"{' (profiled)' if profile else ''}, {sum(SENT.values()) / n:.2f} statements a "
              f"request, PostgreSQL {1e6 * pg / n:,.0f} µs a request, "
              f"failures {sum(1 for s in statuses if s != 200)}")
        if args.show_sql:
            for text, count in SENT.most_common():
                print(f"  {count / n:5.2f}  {text}")
        if args.explain:
            _explain(world.url)
        if args.parts:
            _parts(world, *timed[0])
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
