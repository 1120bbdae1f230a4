"""Latency of signed single earns inside one hub process, paced open-loop: where a tail comes
from when uvicorn, sockets and the HTTP load generator are taken away.

    .venv/bin/python -m infra.bench.earn_latency [--rate 0] [--block 300] [--rounds 2]
        [--switch-intervals 0.005]

The same world and signed requests as `partner_api.py`, sent to the ASGI app from this process's
event loop (`single_earn_probe._send`) with the endpoint's real GraphQL thread pool. Each request
is scheduled at start + i / rate and its latency is answer time minus scheduled time, so a stall
delays every request behind it rather than hiding them (no coordinated omission). `--rate 0`
paces at half of what a closed loop of 8 achieves first. Blocks alternate the interpreter's
switch interval (`sys.setswitchinterval`, the GIL's forced hand-over; 0.005 s is Python's
default) and print the garbage collector's pauses per generation during the block (its own
callbacks) and the load average. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import uuid

from infra.bench.databases import drop_database
from infra.bench.partner_api import build_world, percentile, presign
from infra.bench.single_earn_probe import _send

PAUSES: dict[int, list[float]] = {0: [], 1: [], 2: []}
_STARTED: list[float] = [0.0]


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _STARTED[0] = time.perf_counter()
    else:
        PAUSES[info["generation"]].append(time.perf_counter() - _STARTED[0])


def _load() -> str:
    return open("/proc/loadavg").read().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=0, help="requests/s; 0: half of max")
    parser.add_argument("--block", type=int, default=300, help="requests per block")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--switch-intervals", default="0.005",
                        help="comma-separated seconds, alternated block by block")
    args = parser.parse_args()
    intervals = args.switch_intervals.split(",")
    name = f"pointsnet_bench_latency_{uuid.uuid4().hex[:8]}"
    world = build_world(name, 5000)
    os.environ.update({"POINTSNET_DATABASE_URL": world.url, "POINTSNET_ENV": "production",
                       "POINTSNET_SECRET_KEY": "bench-secret"})
    try:
        from infra.asgi import app
        url = "http://127.0.0.1:8000/graphql"

        async def closed(requests: list, concurrency: int) -> float:  # type: ignore[type-arg]
            pending = iter(requests)

            async def worker() -> None:
                for headers, body in pending:
                    await _send(app, headers, body)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return len(requests) / (time.perf_counter() - started)

        async def paced(requests: list, rate: float) -> list[float]:  # type: ignore[type-arg]
            latencies: list[float] = []
            start = time.perf_counter() + 0.05

            async def one(index: int, headers: dict[str, str], body: bytes) -> None:
                at = start + index / rate
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                status, answer = await _send(app, headers, body)
                if status != 200 or b'"userErrors":[]' not in answer:
                    raise RuntimeError(f"a request failed: {status} {answer[:200]!r}")
                latencies.append(time.perf_counter() - at)

            await asyncio.gather(*(one(i, h, b) for i, (h, b) in enumerate(requests)))
            return latencies

        asyncio.run(closed(presign(world, url, 300), 8))  # warm-up
        rate = args.rate or asyncio.run(closed(presign(world, url, 600), 8)) / 2
        print(f"paced at {rate:,.0f} requests/s, {args.block} a block; load {_load()}",
              flush=True)
        gc.callbacks.append(_gc_callback)
        every: dict[str, list[float]] = {v: [] for v in intervals}
        for round_number in range(1, args.rounds + 1):
            for interval in intervals if round_number % 2 else intervals[::-1]:
                requests = presign(world, url, args.block)
                for pauses in PAUSES.values():
                    pauses.clear()
                sys.setswitchinterval(float(interval))
                latencies = asyncio.run(paced(requests, rate))
                every[interval] += latencies
                collected = ", ".join(
                    f"gen{g} {len(p)} (max {max(p, default=0) * 1e3:.1f} ms)"
                    for g, p in PAUSES.items())
                print(f"round {round_number}, switch interval {interval} s: "
                      f"p50 {percentile(latencies, 0.5) * 1e3:.1f} ms, "
                      f"p90 {percentile(latencies, 0.9) * 1e3:.1f} ms, "
                      f"p99 {percentile(latencies, 0.99) * 1e3:.1f} ms; "
                      f"GC {collected}; load {_load()}", flush=True)
        for interval, latencies in every.items():
            print(f"all blocks, switch interval {interval} s: {len(latencies)} requests, "
                  f"p50 {percentile(latencies, 0.5) * 1e3:.1f} ms, "
                  f"p99 {percentile(latencies, 0.99) * 1e3:.1f} ms")
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
