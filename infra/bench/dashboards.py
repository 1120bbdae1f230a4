"""Dashboard page times over the 1M-member benchmark data: the KPI rollup job's cost per day,
then p50/p95 of whole dashboard pages through the ASGI app.

    .venv/bin/python -m infra.bench.dashboards [--members 1000000] [--reuse] [--keep]
                                               [--refresh-days 14] [--samples 40]

Builds (or with --reuse, reuses) the wallet benchmark's database (infra/bench/wallet_query.py:
members, 20 partners, 3 charities, ~10 entries per member over two years, a lot per earn) and
adds one consumption per redemption and donation (from the member's first lot), so the flows
and the cross-partner matrix have data. Then:

1. runs the rollup (settlement/kpis/rollup.py, the `kpi-rollups` job's code) for the last
   `--refresh-days` days and prints seconds per day: the job's cost;
2. copies those days' rollup rows back over the rest of the two years (synthetic, so the
   tables hold two years x 23 parties of rows, as a network running the job since its first day
   would; the copies are not the ledger's figures, they are there for the row counts);
3. signs in a finance user and a partner manager and times GET of whole pages, HTML rendered,
   through the app in-process (no network): the network dashboard for 30 days and for a year, a
   partner's, the partner portal's own dashboard, and a CSV.

Prints figures; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import warnings

import psycopg

from infra.bench import wallet_query
from infra.bench.databases import drop_database, libpq

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = wallet_query.SECRET
PASSWORD = "bench password for the dashboards"


def add_consumptions() -> None:
    with psycopg.connect(libpq(wallet_query.database_url())) as conn:
        done = conn.execute("SELECT count(*) FROM consumptions").fetchone()
        if done and done[0]:
            return
        wallet_query.step("consumptions (one per redeem/donate)", conn, """
            INSERT INTO consumptions (entry_id, member_id, lot_id, issuer_party_id, kind,
                                      sink_party_id, points, booked_at)
            SELECT je.id, je.member_id, l.id, l.issuer_party_id,
                   CASE je.kind WHEN 'redeem' THEN 'redemption' ELSE 'donation' END,
                   je.party_id, je.points, je.booked_at
            FROM journal_entries je
            JOIN LATERAL (SELECT id, issuer_party_id FROM lots WHERE lots.member_id = je.member_id
                          ORDER BY id LIMIT 1) l ON true
            WHERE je.kind IN ('redeem', 'donate')""")
        conn.execute("ANALYZE consumptions")
        conn.commit()


def refresh(days: int) -> dt.date:
    from network.db.engine import Database
    from settlement.kpis import rollup

    db = Database(wallet_query.database_url())
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    wanted = [today - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    started = time.perf_counter()
    result = rollup.refresh(db, now, "UTC", days=wanted[:-2])  # without the tier snapshot
    plain = time.perf_counter() - started
    started = time.perf_counter()
    rollup.refresh(db, now, "UTC", days=wanted[-2:])  # the two latest days take tiers too
    tiers = time.perf_counter() - started
    print(f"  rollup: {result.days} days in {plain:.1f} s ({plain / max(result.days, 1):.2f} s "
          f"a day); the 2 latest days with the tier snapshot {tiers:.1f} s", flush=True)
    db.dispose()
    return wanted[0]


def copy_history(first: dt.date, days: int) -> None:
    """Fill the two years before `first` with copies of the refreshed days' rows (synthetic)."""
    with psycopg.connect(libpq(wallet_query.database_url())) as conn:
        for table in ("kpi_daily", "kpi_flows"):
            conn.execute(f"DELETE FROM {table} WHERE day < %s", (first,))
        conn.execute("""
            INSERT INTO kpi_daily (day, party_id, measure, value)
            SELECT %(first)s - g * %(days)s + (d.day - %(first)s), d.party_id, d.measure, d.value
            FROM kpi_daily d, generate_series(1, %(copies)s) g
            WHERE d.day >= %(first)s AND d.measure NOT LIKE 'tier:%%'""",
                     {"first": first, "days": days, "copies": 730 // days})
        conn.execute("""
            INSERT INTO kpi_flows (day, issuer_party_id, sink_party_id, kind, points)
            SELECT %(first)s - g * %(days)s + (f.day - %(first)s), f.issuer_party_id,
                   f.sink_party_id, f.kind, f.points
            FROM kpi_flows f, generate_series(1, %(copies)s) g WHERE f.day >= %(first)s""",
                     {"first": first, "days": days, "copies": 730 // days})
        conn.commit()
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                 for t in ("kpi_daily", "kpi_flows")}
    with psycopg.connect(libpq(wallet_query.database_url()), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE kpi_daily")
        conn.execute("VACUUM ANALYZE kpi_flows")
    print(f"  rollup rows: {sizes['kpi_daily']:,} daily measures, {sizes['kpi_flows']:,} flows "
          f"(two years, copies of the refreshed days)", flush=True)


def signed_in(app, login: str, role: str, partner_id: int | None, door: str) -> TestClient:  # type: ignore[no-untyped-def]
    import re

    from network.backoffice import accounts, totp

    db = app.state.backoffice.db
    now = dt.datetime.now(dt.UTC)
    _, secret = db.write(lambda c: accounts.create(
        c, SECRET, login=login, name=role.title(), kind="staff" if partner_id is None
        else "partner_user", role=role, password=PASSWORD, now=now, partner_id=partner_id))
    client = TestClient(app, base_url="http://bench.test")
    form = client.get(door).text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    answer = client.post(door, data={"csrf": token.group(1) if token else "", "login": login,
                                     "password": PASSWORD,
                                     "code": totp.code_at(secret, time.time())},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    return client


def measure(samples: int) -> None:
    from sqlalchemy import select

    from infra.app import create_app
    from network.config import Settings
    from network.db.engine import Database
    from network.db.schema import parties

    db = Database(wallet_query.database_url())
    settings = Settings(database_url=db.url, env="development", secret_key=SECRET)
    app = create_app(settings, db)
    partner_id = db.read(lambda c: c.execute(select(parties.c.id).where(
        parties.c.code == "bench-1")).scalar_one())
    stamp = int(time.time())
    staff = signed_in(app, f"finance-{stamp}@bench.example", "finance", None, "/console/signin")
    partner = signed_in(app, f"manager-{stamp}@bench.example", "manager", partner_id,
                        "/partner/signin")
    year_ago = (dt.date.today() - dt.timedelta(days=364)).isoformat()
    pages = [
        ("network, last 30 days", staff, "/console/dashboards"),
        ("network, last 365 days", staff, f"/console/dashboards?from={year_ago}"),
        ("partner bench-1, 30 days (staff)", staff, "/console/dashboards?partner=bench-1"),
        ("partner portal dashboard, 30 days", partner, "/partner/dashboard"),
        ("network CSV (matrix), 365 days", staff,
         f"/console/dashboards.csv?table=matrix&from={year_ago}"),
    ]
    print(f"page times, {samples} requests each (after 3 warm-ups), whole HTML rendered:")
    for label, client, url in pages:
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        times.sort()
        p50 = times[len(times) // 2] * 1000
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))] * 1000
        print(f"  {label:<38} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"({len(response.content):,} bytes)", flush=True)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries-per-member", type=float, default=10.0)
    parser.add_argument("--refresh-days", type=int, default=14)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=float, default=0.5)
    parser.add_argument("--reuse", action="store_true", help="use an existing bench database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not args.reuse:
        wallet_query.build(args.members, args.entries_per_member, args.seed)
    print(f"counts: {wallet_query.counts()}", flush=True)
    add_consumptions()
    first = refresh(args.refresh_days)
    copy_history(first, args.refresh_days)
    measure(args.samples)
    if not args.keep:
        drop_database(wallet_query.NAME)


if __name__ == "__main__":
    main()
