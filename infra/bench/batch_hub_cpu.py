"""The hub's own CPU per batch line, in one process: signed 1,000-line `awardPointsBatch`
requests sent one after another through the ASGI app (Starlette's test client, no uvicorn, no
load generator process), the process's CPU time divided by the lines.

    .venv/bin/python infra/bench/batch_hub_cpu.py [--batches 6] [--lines 1000] [--campaigns N]

partner_api.py's split of the machine's CPU between hub and PostgreSQL blurs when other runs
share the cores; this figure is the hub's work alone (plus the test client's, small and the same
for any hub code), so two commits compare by running it from each, alternately. Uses a throwaway
database (infra/bench/databases.py) and drops it.

`--campaigns N` adds programme_api.py's N campaigns and sends the batches with them paused and
active in turns (the programme off and on, tiers on in both), printing the hub's and the
PostgreSQL backends' CPU a line for each (single_earn_probe.py's reading of the backends).
`--plan-step` also prints the CPU the request's thread spent in the batch's plan step
(`earning.plan_lines`: the contract and the programme's rules, line by line) a line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.bench.databases import drop_database  # noqa: E402
from infra.bench.partner_api import BATCH, build_world  # noqa: E402
from partners.client import sign_graphql  # noqa: E402
from partners.signatures import load_private_key  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--campaigns", type=int, default=0)
    parser.add_argument("--plan-step", action="store_true",
                        help="with --campaigns: the plan step's own CPU a line, off and on")
    args = parser.parse_args()

    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, args.members)
    if args.campaigns:
        from infra.bench.programme_api import add_campaigns
        add_campaigns(world, args.campaigns)
        _alternate(args, world, name)
        return
    os.environ.update(POINTSNET_DATABASE_URL=world.url, POINTSNET_ENV="production",
                      POINTSNET_SECRET_KEY="bench-secret")
    from starlette.testclient import TestClient

    from infra.app import create_app

    app = create_app()
    gc.freeze()  # as infra/asgi.py does
    key = load_private_key(world.pem)
    url = "http://testserver/graphql"

    def signed_batch() -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"query": BATCH, "variables": {"input": {"lines": [
            {"cardNumber": random.choice(world.cards), "amount": random.randint(100, 9999),
             "currency": "EUR"} for _ in range(args.lines)]}}}, separators=(",", ":")).encode()
        return body, sign_graphql(url, body, key=key, key_id=world.key_id,
                                  idempotency_key=str(uuid.uuid4())).headers

    requests = [signed_batch() for _ in range(args.batches + 1)]  # the first warms the caches
    try:
        with TestClient(app) as client:
            cpu = wall = 0.0
            for number, (body, headers) in enumerate(requests):
                started_cpu, started = time.process_time(), time.perf_counter()
                answer = client.post("/graphql", content=body, headers=headers)
                if number:
                    cpu += time.process_time() - started_cpu
                    wall += time.perf_counter() - started
                if f'"accepted":{args.lines},'.encode() not in answer.content:
                    raise RuntimeError(f"a batch was not booked whole: {answer.content[:300]!r}")
        lines = args.batches * args.lines
        print(f"batch earns in process, {args.batches} x {args.lines} lines: the hub's CPU "
              f"{1e6 * cpu / lines:,.1f} µs a line, wall {1e6 * wall / lines:,.1f} µs a line "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    finally:
        drop_database(name)


def _alternate(args: argparse.Namespace, world: object, name: str) -> None:
    """`--campaigns`: each batch with the campaigns paused (off) or active (on), in turns."""
    import statistics

    from infra.bench.single_earn_probe import _backends_cpu, _set_campaigns
    os.environ.update(POINTSNET_DATABASE_URL=world.url, POINTSNET_ENV="production",  # type: ignore[attr-defined]
                      POINTSNET_SECRET_KEY="bench-secret")
    from starlette.testclient import TestClient

    from infra.app import create_app
    app = create_app()
    gc.freeze()
    planning = _time_plan_step() if args.plan_step else None
    key = load_private_key(world.pem)  # type: ignore[attr-defined]
    url = "http://testserver/graphql"

    def signed_batch() -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"query": BATCH, "variables": {"input": {"lines": [
            {"cardNumber": random.choice(world.cards), "amount": random.randint(100, 9999),  # type: ignore[attr-defined]
             "currency": "EUR"} for _ in range(args.lines)]}}}, separators=(",", ":")).encode()
        return body, sign_graphql(url, body, key=key, key_id=world.key_id,  # type: ignore[attr-defined]
                                  idempotency_key=str(uuid.uuid4())).headers

    figures: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    try:
        with TestClient(app) as client:
            for number in range(2 * args.batches + 2):  # the first pair warms the caches
                label = ("off", "on")[number % 2]
                _set_campaigns(world, "paused" if label == "off" else "active")
                body, headers = signed_batch()
                pg_before = _backends_cpu(world.url, name)  # type: ignore[attr-defined]
                if planning is not None:
                    planning[0] = 0.0
                started_cpu = time.process_time()
                answer = client.post("/graphql", content=body, headers=headers)
                hub = 1e6 * (time.process_time() - started_cpu) / args.lines
                pg = 1e6 * (_backends_cpu(world.url, name) - pg_before) / args.lines  # type: ignore[attr-defined]
                if f'"accepted":{args.lines},'.encode() not in answer.content:
                    raise RuntimeError(f"a batch was not booked whole: {answer.content[:300]!r}")
                if number >= 2:
                    figures[label].append((hub, pg))
                    print(f"programme {label}: hub {hub:,.1f} µs, PostgreSQL {pg:,.1f} µs a line "
                          f"(load {os.getloadavg()[0]:.1f})", flush=True)
                    if planning is not None:
                        print(f"programme {label}: plan step "
                              f"{1e6 * planning[0] / args.lines:,.1f} µs a line", flush=True)
        (hub_off, pg_off), (hub_on, pg_on) = (
            tuple(statistics.median(f[i] for f in figures[k]) for i in (0, 1))
            for k in ("off", "on"))
        print(f"medians: off hub {hub_off:,.1f} + PostgreSQL {pg_off:,.1f} = "
              f"{hub_off + pg_off:,.1f} µs a line; on hub {hub_on:,.1f} + PostgreSQL "
              f"{pg_on:,.1f} = {hub_on + pg_on:,.1f} µs; on/off (CPU a line, inverted) "
              f"{(hub_off + pg_off) / (hub_on + pg_on):.2f}")
    finally:
        drop_database(name)


def _time_plan_step() -> list[float]:
    """The request thread's CPU in `earning.plan_lines`, added up in the returned cell."""
    from network.ledger import bulk_earn

    spent = [0.0]
    plan_lines = bulk_earn.plan_lines

    def timed(*args: object, **kwargs: object) -> object:
        started = time.thread_time()
        try:
            return plan_lines(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent[0] += time.thread_time() - started

    bulk_earn.plan_lines = timed  # type: ignore[assignment]
    return spent


if __name__ == "__main__":
    main()
