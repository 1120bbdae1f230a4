"""How long the hub takes to refuse huge GraphQL documents (issue 15): a ~2 MB body of 400,000
repeated fields, unsigned, signed by a partner's real key and signed by a key the hub does not
know as that partner's, one at a time and eight at once; and the most fields an unsigned 60 KiB
body holds.

    .venv/bin/python infra/bench/big_documents.py [--fields 400000] [--at-once 8]

Through uvicorn on 127.0.0.1 (one worker) against a throwaway PostgreSQL database. Prints each
case's status, code and wall time, and the hub's CPU seconds for it (from /proc); asserts
nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.bench.databases import drop_database  # noqa: E402
from infra.bench.partner_api import build_world, start_server  # noqa: E402
from partners.client import sign_graphql  # noqa: E402
from partners.signatures import load_private_key  # noqa: E402


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children (uvicorn's worker)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / 100


def hub_cpu(pid: int) -> float:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return process_cpu(pid) + sum(process_cpu(int(c)) for c in children)


def document(fields: int) -> bytes:
    query = "query Big {" + " abcd" * fields + " }"
    return json.dumps({"query": query, "variables": {}}).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fields", type=int, default=400_000)
    parser.add_argument("--at-once", type=int, default=8)
    args = parser.parse_args()
    name = f"bench_bigdoc_{uuid.uuid4().hex[:8]}"
    world = build_world(name, 1)
    server, base = start_server(world, workers=1)
    try:
        body = document(args.fields)
        key = load_private_key(world.pem)
        url = f"{base}/graphql"
        print(f"body: {len(body):,} bytes, {args.fields:,} fields")

        def unsigned() -> httpx.Response:
            return httpx.post(url, content=body, headers={"Content-Type": "application/json"},
                              timeout=600)

        def signed_by(signing_key: object, content: bytes) -> httpx.Response:
            headers = sign_graphql(url, content, key=signing_key, key_id=world.key_id,
                                   idempotency_key=None).headers
            return httpx.post(url, content=content, headers=dict(headers), timeout=600)

        # Under the unsigned body limit: the most fields 60 KiB holds.
        small = document(60 * 1024 // 5)
        forger = Ed25519PrivateKey.generate()
        cases = (("unsigned", unsigned), ("signed", lambda: signed_by(key, body)),
                 ("forged", lambda: signed_by(forger, body)),
                 ("unsigned 60 KiB", lambda: httpx.post(
                     url, content=small, headers={"Content-Type": "application/json"})))
        for label, send in cases:
            for count in (1, args.at_once):
                cpu, start = hub_cpu(server.pid), time.perf_counter()
                with ThreadPoolExecutor(count) as pool:
                    answers = [f.result() for f in [pool.submit(send) for _ in range(count)]]
                wall = time.perf_counter() - start
                used = hub_cpu(server.pid) - cpu
                first = answers[0]
                try:
                    code = first.json()["errors"][0]["extensions"]["code"]
                except (ValueError, KeyError, IndexError, TypeError):
                    code = "?"
                print(f"{label:>15} x{count}: HTTP {first.status_code} {code:<24} "
                      f"wall {wall * 1000:9.1f} ms   hub CPU {used * 1000:9.1f} ms")
    finally:
        server.terminate()
        server.wait()
        drop_database(name)


if __name__ == "__main__":
    main()
