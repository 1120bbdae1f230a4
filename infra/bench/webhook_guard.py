"""What partner webhooks cost the PostgreSQL one-statement earn when nobody listens.

    .venv/bin/python -m infra.bench.webhook_guard [--earns 2000] [--rounds 5]

A partner's earn carries the webhooks' guard inside its one statement (network/ledger/
observers.py: NOT EXISTS an enabled endpoint of the partner wanting points.earned); an earn under
a non-partner scope carries none. Both book the same rows through the same code, alternating in
rounds, so the difference is the guard: wall time per earn (the database's work included) and
client CPU per earn. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bench.databases import create_database, drop_database  # noqa: E402
from infra.migrate import upgrade  # noqa: E402
from network import ledger, members, parties  # noqa: E402
from network.clock import utcnow  # noqa: E402
from network.db.engine import Database  # noqa: E402
from partners import webhooks  # noqa: E402, F401  (registers the observer, as the hub does)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--earns", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    name = f"pointsnet_bench_guard_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    try:
        upgrade(url)
        db = Database(url)
        partner = db.write(lambda c: parties.create(c, kind="partner", code="p", name="P"))
        member_ids = [members.enrol(db, secret="s", scope="system", idempotency_key=f"m{i}",
                                    enrolled_by=partner).id for i in range(50)]
        expires = utcnow() + timedelta(days=365)
        counter = iter(range(10**9))

        def run(scope: str) -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.earns):
                n = next(counter)
                ledger.earn(db, scope=scope, idempotency_key=f"e{n}", issuer_id=partner,
                            member_id=member_ids[n % 50], points=5, expires_at=expires)
            return ((time.perf_counter() - wall) / args.earns * 1e6,
                    (time.process_time() - cpu) / args.earns * 1e6)

        run("warm-up")
        guarded, plain = [], []
        for _ in range(args.rounds):
            plain.append(run("bench"))
            guarded.append(run(f"partner:{partner}"))
        db.dispose()
    finally:
        drop_database(name)

    def median(rows: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(f"earn without the guard: {median(plain, 0):7.0f} us wall, "
          f"{median(plain, 1):5.0f} us client CPU (median of {args.rounds} x {args.earns})")
    print(f"earn with the guard:    {median(guarded, 0):7.0f} us wall, "
          f"{median(guarded, 1):5.0f} us client CPU")
    print(f"ratio with/without: wall {median(guarded, 0) / median(plain, 0):.3f}, "
          f"client CPU {median(guarded, 1) / median(plain, 1):.3f}")


if __name__ == "__main__":
    main()
