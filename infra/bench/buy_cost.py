"""Hub CPU of one buyReward through the GraphQL endpoint, in this process, one after another.

    .venv/bin/python infra/bench/buy_cost.py [--purchases 300] [--rounds 3]

The documented BuyReward request (bearer token, popular coupon with limited stock) handed to the
endpoint's `_respond` as uvicorn's thread would hand it, without the HTTP server or a load
generator: what the request itself costs the hub (authentication, the purchase, the answer and
its QR), as process CPU, which moves far less with machine load than wall time does. Run it on
two checkouts back to back to compare them; rewards.py measures throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from starlette.requests import Request  # noqa: E402

from infra.bench.databases import drop_database  # noqa: E402
from infra.bench.rewards import BUY, SECRET, build_world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, 4, 5, 10_000_000)
    os.environ.update(POINTSNET_DATABASE_URL=world.url, POINTSNET_ENV="production",
                      POINTSNET_SECRET_KEY=SECRET)
    from infra.app import create_app

    app = create_app()
    endpoint = next(route.endpoint.__self__ for route in app.routes  # type: ignore[attr-defined]
                    if getattr(route, "path", "") == "/graphql" and "POST" in route.methods)

    def buy(n: int) -> None:
        body = json.dumps({"query": BUY, "variables": {
            "rewardId": world.popular, "idempotencyKey": uuid.uuid4().hex}}).encode()
        headers = [(b"authorization", f"Bearer {world.tokens[n % 4]}".encode()),
                   (b"content-type", b"application/json"), (b"host", b"127.0.0.1")]
        request = Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers,
                           "query_string": b"", "client": ("127.0.0.1", 1), "app": app,
                           "server": ("127.0.0.1", 80), "scheme": "http", "root_path": ""})
        answer = endpoint._respond(request, body)
        assert b'"userErrors":[]' in answer.body, answer.body[:300]

    try:
        for n in range(30):  # warm-up: documents, statements, connections
            buy(n)
        for number in range(1, args.rounds + 1):
            started, wall = time.process_time(), time.perf_counter()
            for n in range(args.purchases):
                buy(n)
            cpu, wall = time.process_time() - started, time.perf_counter() - wall
            print(f"round {number}: {args.purchases} purchases one after another, hub CPU "
                  f"{cpu / args.purchases * 1e6:,.0f} µs a purchase, wall "
                  f"{wall / args.purchases * 1e3:.2f} ms", flush=True)
    finally:
        endpoint.db.dispose()
        drop_database(name)


if __name__ == "__main__":
    main()
