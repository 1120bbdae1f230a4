"""The programme's cost on the partner API: signed single earns and batch earns through uvicorn on
PostgreSQL with the programme off (no campaign) and on (`--campaigns N` active campaigns), both
measured in the same run, with their ratio.

    .venv/bin/python infra/bench/programme_api.py [--campaigns 50] [--seconds 5]
        [--concurrency 16] [--workers 2] [--batches 2] [--batch-lines 500] [--batch-streams 4]

The N campaigns are spread over 10 partners, as a real programme would be: the benchmark's own
partner (all its earns) gets every tenth, the rest belong to nine other partners, so the index
holds N while an earn at the bench partner meets N/10 candidates: a multiplier that always
matches (budgeted, so every earn locks its member's slot of the budget), a bonus on 50 EUR and
more limited to once a day per member (usage counted under the lock), a tier-gated double (the
member's tier is read), a category campaign the basket-less earns never match, and a network
multiplier for the app channel. The tiers are on in both runs. `--no-budget` drops the
always-matching multiplier's budget (what it spent is still counted, in its member's slot of
`campaign_budget_slots`). Prints figures
and their on/off ratios, measured in the same run; asserts nothing (benchmarks are not tests).
Ends with `ledger verify` over everything both runs booked. Uses the same throwaway database
and server helpers as infra/bench/partner_api.py.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.bench.databases import drop_database  # noqa: E402
from infra.bench.partner_api import (  # noqa: E402
    World,
    batch_earns,
    build_world,
    percentile,
    presign,
    single_earns,
    start_server,
)
from network import parties  # noqa: E402
from network.clock import utcnow  # noqa: E402
from network.db.engine import Database  # noqa: E402
from network.ledger.verify import verify  # noqa: E402
from network.programme import store  # noqa: E402
from network.programme.campaigns import (  # noqa: E402
    Campaign,
    Conditions,
    FixedPoints,
    Limits,
    Multiplier,
    Trigger,
    sole_funder,
    split_funder,
    tiers_from,
)
from network.programme.tiers import DEFINITIONS  # noqa: E402


def add_campaigns(world: World, count: int, budgets: bool = True) -> None:
    db = Database(world.url)
    now = utcnow()
    start = now - dt.timedelta(days=1)

    def partners(conn: object) -> list[int]:
        bench = parties.by_code(conn, "bench")  # type: ignore[arg-type]
        others = [parties.create(conn, kind="partner", code=f"other-{i}",  # type: ignore[arg-type]
                                 name=f"Other {i}") for i in range(9)]
        return [bench, *others]  # type: ignore[list-item]

    owners = db.write(partners)
    network = db.read(parties.network_party_id)
    kinds = [
        lambda p: {"effect": Multiplier(Decimal("1.5")),
                   "funder": split_funder((p, 5000), (network, 5000)),
                   "limits": Limits(budget_points=10**11 if budgets else None)},
        lambda p: {"effect": FixedPoints(50), "funder": sole_funder(network),
                   "conditions": Conditions(partners=frozenset({p}), min_amount_minor=5000),
                   "limits": Limits(per_member_day=1)},
        lambda p: {"effect": Multiplier(Decimal(2)), "funder": sole_funder(p),
                   "conditions": Conditions(partners=frozenset({p}),
                                            tiers=tiers_from(DEFINITIONS, "silver"))},
        lambda p: {"effect": FixedPoints(20), "funder": sole_funder(p),
                   "conditions": Conditions(partners=frozenset({p}),
                                            categories=frozenset({"pastry"}))},
        lambda p: {"effect": Multiplier(Decimal("1.2")), "funder": sole_funder(network),
                   "conditions": Conditions(partners=frozenset({p}),
                                            channels=frozenset({"app"}))},
    ]
    for i in range(count):
        partner = owners[i % len(owners)]
        values = kinds[(i // len(owners)) % len(kinds)](partner)
        values.setdefault("conditions", Conditions(partners=frozenset({partner})))
        campaign = Campaign(id=0, code=f"bench-{i}", name_en=f"Bench {i}", name_fa=f"بنچ {i}",
                            trigger=Trigger("purchase"), starts_at=start, **values)
        db.write(store.create, campaign, owner_party_id=partner)
        db.write(store.set_status, campaign.code, "active")
    db.dispose()


def measure(label: str, args: argparse.Namespace, world: World, base: str,
            pid: int) -> tuple[float, float]:
    url = f"{base}/graphql"
    asyncio.run(single_earns(base, presign(world, url, 1_000), seconds=1,
                             concurrency=args.concurrency))  # warm-up
    rates = []
    for round_number in range(1, args.rounds + 1):
        requests = presign(world, url, int(args.seconds * 2_500))
        rps, latencies, failures = asyncio.run(single_earns(
            base, requests, seconds=args.seconds, concurrency=args.concurrency))
        rates.append(rps)
        print(f"{label} round {round_number}: signed single earns {rps:,.0f} req/s, "
              f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, failures {failures}",
              flush=True)
    lines, accepted, _ = batch_earns(base, world, batches=args.batches, lines=args.batch_lines,
                                     streams=args.batch_streams, hub_pid=pid)
    print(f"{label}: batch earns {args.batch_streams} streams x {args.batches} x "
          f"{args.batch_lines} lines: {lines:,.0f} lines/s ({accepted} accepted)", flush=True)
    return statistics.median(rates), lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--batch-lines", type=int, default=500)
    parser.add_argument("--batch-streams", type=int, default=4)
    parser.add_argument("--no-budget", action="store_true",
                        help="the always-matching multiplier without a budget: no shared row "
                             "lock per earn, to see what the budget's exactness costs")
    args = parser.parse_args()

    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, args.members)
    process, base = start_server(world, args.workers)
    try:
        off = measure("programme off", args, world, base, process.pid)
        add_campaigns(world, args.campaigns, budgets=not args.no_budget)
        # Each worker re-reads the programme's version at most every VERSION_TTL seconds.
        time.sleep(store.VERSION_TTL * 2)
        on = measure(f"programme on ({args.campaigns} campaigns)", args, world, base,
                     process.pid)
        print(f"single earns: off {off[0]:,.0f} req/s, on {on[0]:,.0f} req/s, "
              f"on/off {on[0] / off[0]:.2f}")
        print(f"batch lines:  off {off[1]:,.0f} lines/s, on {on[1]:,.0f} lines/s, "
              f"on/off {on[1] / off[1]:.2f}")
        print(f"(load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        db = Database(world.url)
        try:  # every earn of both runs, campaign lots and awards included, still balances
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
