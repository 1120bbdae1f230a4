"""One signed single earn, looked at from inside the hub's process: statements per request, the
hub's and PostgreSQL's CPU per request, and on request a profile, the pieces alone, a plan.

    .venv/bin/python -m infra.bench.single_earn_probe [--requests 500] [--show-sql]
        [--profile N] [--parts] [--explain] [--campaigns N [--no-budget]]

The same world and signed requests as `partner_api.py` (its `build_world` and `presign`), sent
through the ASGI app straight from one event loop (no uvicorn, no sockets), one at a time, the
endpoint's thread hop replaced by a call in the same thread (so cProfile sees the work). CPU per
request is this process's (the hub's code and psycopg's client side) and that of the PostgreSQL
backends serving the probe's own database, read from /proc, so other runs on the server do not
blur it: an A/B of one change (a local edit, run alternately) reads differences of a few percent
that `partner_api.py`'s machine-wide split loses when others share the machine. Every statement
a request sends is counted (psycopg's `Cursor.execute`, which SQLAlchemy's calls go through too):
the aim is one round trip per request. `--profile` measures thread CPU time, inflated by the
profiler's own cost on small calls. `--campaigns N` turns the programme on first with
`programme_api.py`'s N campaigns (tiers are on either way), so an A/B of the programme's cost
per earn reads the same figures. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import cProfile
import os
import pstats
import statistics
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

    async def run(self, fn, *args):  # type: ignore[no-untyped-def]
        """The endpoint's trip (infra/thread_hop.py `ThreadHop.run`), made in this thread."""
        return fn(*args)


def _count_statements() -> None:
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        text = query if isinstance(query, str) else str(query)
        SENT[" ".join(text.split())[:90]] += 1
        if "claim AS MATERIALIZED" in text:
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
    params = {**params, "key": uuid.uuid4().hex, "lock_key": Int8(uuid.uuid4().int % 2**62),
              "nonce": uuid.uuid4().hex}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for row in conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params):
            print("  " + row[0])
        conn.rollback()


def _plans(url: str) -> None:
    """How the server plans the last earn statement once prepared: it books it 12 more times
    (fresh idempotency keys) on one autocommit connection, as the hub's statement connections
    do (network/db/engine.py), and prints the generic and custom plans made and the time each
    execution took. A custom plan is planned again at every execution."""
    sql, params = EARNS[-1]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         prepare_threshold=0, autocommit=True) as conn:
        took = []
        for _ in range(12):
            started = time.perf_counter()
            conn.execute(sql, {**params, "key": uuid.uuid4().hex,
                               "lock_key": Int8(uuid.uuid4().int % 2**62)}, prepare=True)
            took.append(1e6 * (time.perf_counter() - started))
        for generic, custom in conn.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'WITH claim%'"):
            print(f"  prepared earn statement: generic plans {generic}, custom plans {custom}; "
                  f"µs per execution: {', '.join(f'{t:,.0f}' for t in took)}")


def _write_set(url: str, n: int) -> None:
    """`--write-set`: the last programme earn statement alone, on one autocommit connection,
    PostgreSQL CPU per execution (its backend's, from /proc) in three forms, in turns, for
    random members: as planned; the same statement with every plan cut to the base points (no
    extra lot, posting, award row or budget take: what the programme's write set costs is the
    difference); and the plain earn statement (`pg_writer._ONE`: what reading the tier and the
    programme's CTEs cost is the rest)."""
    import json
    import random

    from network.ledger import pg_writer
    from network.programme import budgets
    sql, params = EARNS[-1]
    if "plans" not in params:
        print("  --write-set: the last earn had no programme parts")
        return
    base = int(params["points"])
    bare = [{**plan, "total": base, "issued": [{"party": int(params["issuer"]), "p": base}],
             "parts": [], "bd": None} for plan in json.loads(params["plans"])]
    plain = pg_writer._one("true", None)
    forms = {"as planned": (sql, {}), "cut to the base": (sql, {"plans": json.dumps(bare)}),
             "plain statement": (plain, {})}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        members = [m for (m,) in conn.execute("SELECT id FROM members")]
        pid = conn.info.backend_pid
        spent = {label: 0.0 for label in forms}
        walls: dict[str, list[float]] = {label: [] for label in forms}
        booked = {label: 0 for label in forms}
        for turn in range(n * len(forms)):
            label = list(forms)[turn % len(forms)]
            text, changes = forms[label]
            member = random.choice(members)
            values = {**params, **changes, "member": Int8(member), "key": uuid.uuid4().hex,
                      "lock_key": Int8(uuid.uuid4().int % 2**62),
                      "slot": budgets.slot_of(member)}
            before = _process_cpu(open(f"/proc/{pid}/stat").read())
            started = time.perf_counter()
            try:
                row = conn.execute(text, values, prepare=True).fetchone()
                booked[label] += row is not None and row[3] is not None
            except psycopg.errors.DivisionByZero:
                pass
            walls[label].append(time.perf_counter() - started)
            spent[label] += _process_cpu(open(f"/proc/{pid}/stat").read()) - before
    for label in forms:
        print(f"  {label}: PostgreSQL {1e6 * spent[label] / n:,.0f} µs of CPU an execution "
              f"(sampled at the kernel's tick), median {1e6 * statistics.median(walls[label]):,.0f}"
              f" µs wall ({booked[label]} of {n} booked)")


def _set_campaigns(world, status: str) -> None:  # type: ignore[no-untyped-def]
    """Every bench campaign paused or active again; this process's index cache is dropped at
    once (network/programme/store.py)."""
    from network.db.engine import Database
    from network.programme import store
    db = Database(world.url)
    try:
        for stored in db.read(store.list_campaigns):
            if stored.campaign.status != status:
                db.write(store.set_status, stored.campaign.code, status)
    finally:
        db.dispose()


def _alternate(args, world, name: str, run) -> None:  # type: ignore[no-untyped-def]
    """`--ab`: off (paused) and on (active) in turns, the same world and process, so the
    machine's drift touches both alike; hub and PostgreSQL CPU per request."""
    url = "http://127.0.0.1:8000/graphql"
    figures: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    for round_number in range(1, args.ab + 1):
        for label, status in (("off", "paused"), ("on", "active")):
            _set_campaigns(world, status)
            asyncio.run(run(presign(world, url, 100)))  # warm: plans, caches
            requests = presign(world, url, args.requests)
            pg_before = _backends_cpu(world.url, name)
            started = time.process_time()
            statuses = asyncio.run(run(requests))
            hub = 1e6 * (time.process_time() - started) / len(requests)
            pg = 1e6 * (_backends_cpu(world.url, name) - pg_before) / len(requests)
            figures[label].append((hub, pg))
            print(f"round {round_number} programme {label}: hub {hub:,.0f} µs, PostgreSQL "
                  f"{pg:,.0f} µs a request, failures {sum(1 for s in statuses if s != 200)} "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    (hub_off, pg_off), (hub_on, pg_on) = (
        tuple(statistics.median(f[i] for f in figures[k]) for i in (0, 1)) for k in ("off", "on"))
    print(f"medians: off hub {hub_off:,.0f} + PostgreSQL {pg_off:,.0f} = {hub_off + pg_off:,.0f}"
          f" µs; on hub {hub_on:,.0f} + PostgreSQL {pg_on:,.0f} = {hub_on + pg_on:,.0f} µs; "
          f"on/off (CPU per request, inverted) {(hub_off + pg_off) / (hub_on + pg_on):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE one more earn statement (rolled back)")
    parser.add_argument("--parts", action="store_true",
                        help="also time the pieces every request pays, each alone")
    parser.add_argument("--plans", action="store_true",
                        help="generic and custom plans of each prepared statement")
    parser.add_argument("--campaigns", type=int, default=0,
                        help="programme_api.py's N active campaigns (0: the programme off)")
    parser.add_argument("--write-set", type=int, default=0, metavar="N",
                        help="the last programme earn statement alone, N times in each of "
                             "three forms: planned, cut to the base, the plain statement")
    parser.add_argument("--ab", type=int, default=0, metavar="ROUNDS",
                        help="with --campaigns: ROUNDS rounds of the programme off (campaigns "
                             "paused) then on, medians and on/off ratios of CPU per request")
    parser.add_argument("--no-budget", action="store_true",
                        help="with --campaigns: the always-matching multiplier unbudgeted")
    args = parser.parse_args()
    name = f"pointsnet_bench_probe_{uuid.uuid4().hex[:8]}"
    world = build_world(name, 5000)
    if args.campaigns:
        from infra.bench.programme_api import add_campaigns
        add_campaigns(world, args.campaigns, budgets=not args.no_budget)
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
        if args.ab:
            _alternate(args, world, name, run)
            return
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
        if args.plans:
            _plans(world.url)
        if args.write_set:
            _write_set(world.url, args.write_set)
        if args.parts:
            _parts(world, *timed[0])
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
