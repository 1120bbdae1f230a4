"""Benchmark: settlement preview over a month of 10 million consumption rows on PostgreSQL.

    .venv/bin/python infra/bench/settlement_preview.py [--rows 10000000] [--keep] [--reuse]
                                                       [--database pointsnet_bench_settlement]

Creates a scratch database (pointsnet_bench_settlement), migrates it, adds 50 partners with
contracts and 5 charities, and generates the month's consumptions server-side with
generate_series (80% redemptions of which 1% reversals, 13% donations, 7% expiry, uniform over
October 2026). Ledger postings that reconcile with those rows are added in aggregate (one entry
per kind), so preview does its full job including the ledger check. Secondary indexes are
built after the load and the table is analysed, as a long-running database would be. Foreign
key triggers are off only during the bulk load (session_replication_role = replica, superuser),
since the rows point at one placeholder entry and lot.

Then it times `settlement.run.preview` (aggregate in SQL, clear, net, reconcile, save the
draft) twice and prints rows per second. Target: under 60 s on the 2-core machine. Its yardstick,
timed in the same run over the same rows, is a bare `GROUP BY issuer, sink` (the least any
preview must do: read every row of the month once); the ratio of the faster of each should stay
within 1.5 (issue 21). `--keep` leaves the database, `--reuse` measures a kept one again.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from sqlalchemy import insert, text

from infra.bench.databases import create_database, database_url, drop_database, libpq
from infra.migrate import upgrade
from network.config import Settings
from network.db.engine import Database
from network.db.schema import parties
from partners.contracts_schema import contracts
from settlement import run

NAME = "pointsnet_bench_settlement"
URL = database_url(NAME)
START = datetime(2026, 10, 1, tzinfo=UTC)
INDEXES = ("ix_consumptions_booked", "ix_consumptions_member")


def use_database(name: str) -> None:
    """Another name than the default, so two people can keep their own bench databases."""
    global NAME, URL
    NAME, URL = name, database_url(name)


def fresh_database() -> Database:
    upgrade(create_database(NAME))
    return Database(URL)


def add_parties(db: Database) -> None:
    def write(conn) -> None:  # type: ignore[no-untyped-def]
        rows = [{"kind": "partner", "code": f"partner-{i:02d}", "name": f"Partner {i}",
                 "created_at": START} for i in range(50)]
        rows += [{"kind": "charity", "code": f"charity-{i}", "name": f"Charity {i}",
                  "created_at": START} for i in range(5)]
        conn.execute(insert(parties), rows)
        ids = conn.execute(text("SELECT id FROM parties WHERE kind = 'partner' ORDER BY id"))
        conn.execute(insert(contracts), [{
            "party_id": pid, "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
            "earn_points_per_unit": Decimal(1), "allow_explicit_points": True,
            "pending_days": 0, "validity_months": 24,
            "clearing_price_per_point": Decimal("0.9") + Decimal(n % 7) / 100,
            "network_fee_bps": 100 + n % 5 * 25,
            "donation_value_per_point": Decimal("0.85"),
            "breakage_price_per_point": Decimal("0.30") if n % 2 else Decimal(0),
            "own_redemption_fee_per_point": Decimal("0.05"), "created_at": START,
        } for n, (pid,) in enumerate(ids)])
    db.write(write)


GENERATE = """
INSERT INTO consumptions (entry_id, member_id, lot_id, issuer_party_id, kind, sink_party_id,
                          points, reversal_of_id, booked_at)
SELECT 1, 1 + g % 100000, 1, p.first_partner + (g * 7) % 50, k.kind,
       CASE k.kind WHEN 'redemption' THEN p.first_partner + (g * 13 + g / 50) % 50
                   WHEN 'donation' THEN p.first_charity + g % 5
                   ELSE p.network END,
       CASE WHEN k.kind = 'redemption' AND g % 100 = 0 THEN -(1 + g % 500)
            ELSE 1 + g % 997 END,
       CASE WHEN k.kind = 'redemption' AND g % 100 = 0 THEN g - 1 END,
       TIMESTAMPTZ '2026-10-01 00:00:00+00' + (g % 2678400) * INTERVAL '1 second'
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g
CROSS JOIN LATERAL (SELECT CASE WHEN g % 100 < 80 THEN 'redemption'
                                WHEN g % 100 < 93 THEN 'donation'
                                ELSE 'expiry' END AS kind) AS k
CROSS JOIN (SELECT min(id) FILTER (WHERE kind = 'partner') AS first_partner,
                   min(id) FILTER (WHERE kind = 'charity') AS first_charity,
                   min(id) FILTER (WHERE kind = 'network') AS network FROM parties) AS p
"""

RECONCILING_LEDGER = """
WITH buckets AS (
  SELECT kind, points < 0 AS negative, sum(points) AS points FROM consumptions GROUP BY 1, 2
), entries AS (
  INSERT INTO journal_entries (member_id, kind, party_id, points, booked_at)
  SELECT 1, kind || CASE WHEN negative THEN '_reversal' ELSE '' END, NULL, abs(points),
         TIMESTAMPTZ '2026-10-15 12:00:00+00' FROM buckets
  RETURNING id, kind, points
)
INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
SELECT e.id, 'member_wallet', 1, NULL, CASE WHEN e.kind LIKE '%_reversal' THEN e.points
                                            ELSE -e.points END FROM entries e
UNION ALL
SELECT e.id, split_part(e.kind, '_', 1), 1, 1,  -- every posting carries its entry's member
       CASE WHEN e.kind LIKE '%_reversal' THEN -e.points ELSE e.points END FROM entries e
"""


def load(db: Database, rows: int) -> float:
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO members (card_number, locale, created_at, referral_code) "
                          "VALUES ('bench', 'en', now(), 'BENCH00001')"))
        conn.execute(text("INSERT INTO journal_entries (member_id, kind, points, booked_at) "
                          "VALUES (1, 'earn', 1, '2026-09-01')"))
        conn.execute(text("INSERT INTO lots (member_id, entry_id, issuer_party_id, points, "
                          "remaining, vests_at, created_at) VALUES (1, 1, 2, 1, 0, "
                          "'2026-09-01', '2026-09-01')"))
        for name in INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
    chunk = 1_000_000
    for lo in range(1, rows + 1, chunk):
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(GENERATE), {"lo": lo, "hi": min(lo + chunk - 1, rows)})
        print(f"  generated {min(lo + chunk - 1, rows):>11,} rows "
              f"({time.perf_counter() - started:5.1f} s)", flush=True)
    with db.engine.begin() as conn:
        conn.execute(text(RECONCILING_LEDGER))
        conn.execute(text("CREATE INDEX ix_consumptions_booked ON consumptions (booked_at)"))
        conn.execute(text("CREATE INDEX ix_consumptions_member ON consumptions "
                          "(member_id, entry_id)"))
    with psycopg.connect(libpq(URL), autocommit=True) as raw:
        raw.execute("VACUUM ANALYZE consumptions")
    return time.perf_counter() - started


BARE = """
SELECT issuer_party_id, sink_party_id, sum(points), count(*) FROM consumptions
WHERE booked_at >= TIMESTAMPTZ '2026-10-01 00:00:00+00'
  AND booked_at < TIMESTAMPTZ '2026-11-01 00:00:00+00'
GROUP BY issuer_party_id, sink_party_id
"""


def bare_group_by(db: Database) -> float:
    """Seconds for the yardstick query, through the same driver, its rows fetched."""
    started = time.perf_counter()
    db.read(lambda conn: conn.execute(text(BARE)).all())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database a --keep run left (no load)")
    parser.add_argument("--database", default=NAME, help=f"bench database (default {NAME})")
    args = parser.parse_args()
    use_database(args.database)
    if args.reuse:
        db = Database(URL)
    else:
        db = fresh_database()
        add_parties(db)
        print(f"loading {args.rows:,} consumption rows into {NAME} …", flush=True)
        print(f"load + indexes + analyse: {load(db, args.rows):.1f} s")
    settings = Settings(database_url=URL, env="test", currency="EUR", timezone="UTC")
    previews, bares = [], []
    for attempt in (1, 2):
        bare = bare_group_by(db)
        bares.append(bare)
        print(f"bare GROUP BY issuer, sink #{attempt}: {bare:.2f} s", flush=True)
        started = time.perf_counter()
        outcome = run.preview(db, settings, "2026-10", now=datetime(2026, 11, 2, tzinfo=UTC))
        elapsed = time.perf_counter() - started
        previews.append(elapsed)
        summary = outcome.run.summary
        print(f"preview #{attempt}: {elapsed:.2f} s, "
              f"{summary['controls']['consumption_rows'] / elapsed:,.0f} rows/s; "
              f"{summary['controls']['lines']:,} lines, "
              f"{summary['netting']['netted_payments']} netted payments "
              f"(bilateral {summary['netting']['bilateral_payments']}), "
              f"ratio {summary['netting']['netting_ratio']}, "
              f"discrepancies {len(summary['controls']['discrepancies'])}, "
              f"hash {outcome.run.content_hash[:16]}…", flush=True)
    print(f"preview / bare GROUP BY ratio: {min(previews) / min(bares):.2f}   (target <= 1.5; "
          f"fastest of each: {min(previews):.2f} s / {min(bares):.2f} s)")
    db.dispose()
    if not args.keep and not args.reuse:
        drop_database(NAME)


if __name__ == "__main__":
    main()
