"""A schema change's cost on programme_api.py's "on" batches, measured in turns in one run.

    .venv/bin/python infra/bench/programme_ddl_ab.py --apply "SQL" --undo "SQL" [--pairs 4]
        [--campaigns 50] [--batches 2] [--batch-lines 500] [--batch-streams 4]

One database and hub as programme_api.py builds them, its campaigns active; then the same batch
load (`--batch-streams` clients, each `--batches` batches of `--batch-lines` lines) is sent
with the schema as it is (A) and with `--apply` run on it (B), in turns whose order swaps every
pair (A B, B A, ...), `--undo` putting it back in between. Each turn prints lines/s and the CPU
a line of this run's own PostgreSQL backends (/proc, as single_earn_probe.py reads it): on a
loaded shared machine two separate runs differ by more than a small change costs, turns see
the same load. Ends with both medians and `ledger verify` (with the schema as it was).

Example, campaign_awards' keys to the campaign's and the funder's rows:

    --apply "ALTER TABLE campaign_awards DROP CONSTRAINT fk_campaign_awards_campaign_id_campaigns"
    --undo "ALTER TABLE campaign_awards ADD CONSTRAINT fk_campaign_awards_campaign_id_campaigns
            FOREIGN KEY (campaign_id) REFERENCES campaigns (id)"

Figures only, no assertions (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bench.databases import drop_database, libpq  # noqa: E402
from infra.bench.partner_api import batch_earns, build_world, start_server  # noqa: E402
from infra.bench.programme_api import add_campaigns  # noqa: E402
from infra.bench.single_earn_probe import _backends_cpu  # noqa: E402
from network.db.engine import Database  # noqa: E402
from network.ledger.verify import verify  # noqa: E402
from network.programme import store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apply", required=True, help="SQL: the change (B)")
    parser.add_argument("--undo", required=True, help="SQL: back to the schema as it was (A)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--batch-lines", type=int, default=500)
    parser.add_argument("--batch-streams", type=int, default=4)
    args = parser.parse_args()

    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, args.members)
    process, base = start_server(world, 2)
    try:
        add_campaigns(world, args.campaigns)
        time.sleep(store.VERSION_TTL * 2)  # every worker sees the campaigns
        load = {"batches": args.batches, "lines": args.batch_lines,
                "streams": args.batch_streams, "hub_pid": process.pid}
        batch_earns(base, world, **{**load, "batches": 1})  # warm-up
        results: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        changed = False
        with psycopg.connect(libpq(world.url), autocommit=True) as admin:
            for turn in range(args.pairs * 2):
                side = "AB"[turn % 2] if turn // 2 % 2 == 0 else "BA"[turn % 2]
                if (side == "B") != changed:
                    admin.execute(args.apply if side == "B" else args.undo)
                    changed = side == "B"
                cpu = _backends_cpu(world.url, name)
                lines, accepted, _ = batch_earns(base, world, **load)
                per_line = (_backends_cpu(world.url, name) - cpu) / accepted * 1e6
                results[side].append((lines, per_line))
                print(f"{side} ({'changed' if changed else 'as it is'}): {lines:,.0f} lines/s, "
                      f"PostgreSQL {per_line:,.0f} µs a line "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
            if changed:
                admin.execute(args.undo)
        rate = {s: statistics.median(r[0] for r in results[s]) for s in "AB"}
        cpu_a_line = {s: statistics.median(r[1] for r in results[s]) for s in "AB"}
        for s in "AB":
            print(f"median {s}: {rate[s]:,.0f} lines/s, PostgreSQL {cpu_a_line[s]:,.0f} µs a line")
        print(f"B/A: lines/s {rate['B'] / rate['A']:.2f}, "
              f"PostgreSQL CPU a line {cpu_a_line['B'] / cpu_a_line['A']:.2f}")
        db = Database(world.url)
        try:
            violations = verify(db)
        finally:
            db.dispose()
        print(f"ledger verify after the run: {'ok' if not violations else violations}")
    finally:
        process.terminate()
        process.wait(timeout=20)
        drop_database(name)


if __name__ == "__main__":
    main()
