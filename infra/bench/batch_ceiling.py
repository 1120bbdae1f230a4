"""PostgreSQL's own ceiling for batch earns on this machine: the batch's SQL with no hub at all.

    .venv/bin/python infra/bench/batch_ceiling.py [--streams 4] [--batches 8] [--lines 1000]

Each batch is first booked by the real `bulk_earn.book_earns` inside a transaction that is rolled
back, recording every statement and parameter it sends; the timed part replays those statements,
unchanged, from `--streams` threads, each on its own psycopg connection, one transaction per
batch, as the hub's `Database.write` runs them (infra/bench/batch_replay.py). Python does next
to nothing per line then, so the lines per second it reaches are what PostgreSQL alone can book:
a ceiling for `partner_api.py`'s batch figure, which adds the hub's work on the same cores.
Prints lines/s, PostgreSQL's CPU per line, and pgbench TPC-B in the same run.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bench.batch_replay import measure  # noqa: E402
from infra.bench.databases import drop_database  # noqa: E402
from infra.bench.partner_api import build_world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--batches", type=int, default=8, help="per stream")
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    args = parser.parse_args()

    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, args.members)
    try:
        measure(world.url, streams=args.streams, batches=args.batches, lines=args.lines,
                pgbench_seconds=args.pgbench_seconds)
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
