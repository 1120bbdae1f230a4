"""The batch's SQL replayed with no hub (batch_ceiling.py, and partner_api.py --yardsticks).

Each batch is first booked by the real `bulk_earn.book_earns` inside a transaction that is rolled
back, recording every statement and parameter it sends (SQLAlchemy's `before_cursor_execute`).
`measure` then replays those statements, unchanged, from several threads, each on its own
psycopg connection, one transaction per batch, as the hub's `Database.write` runs them.
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import event, select

from infra.bench import cpu_split
from infra.bench.databases import PgBench, libpq
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import members
from network.ledger.bulk_earn import book_earns
from network.ledger.rules import BulkLine
from partners.terms import Terms, plan_earn

Statements = list[tuple[str, Any]]


def record_batch(db: Database, *, partner_id: int, member_ids: list[int],
                 lines: int) -> Statements:
    """What `book_earns` sends for one batch of `lines` purchases, the database left as it was."""
    now = utcnow()
    terms = Terms(earn_points_per_unit=Decimal("1"))  # partner_api.build_world's contract
    key = str(uuid.uuid4())
    bulk = []
    for index in range(lines):
        amount = random.randint(100, 9999)
        plan = plan_earn(terms, amount_minor=amount, currency="EUR", network_currency="EUR",
                         explicit_points=None, at=now)
        details = {"amount_minor": amount, "currency": "EUR", "points_given": None}
        member = random.choice(member_ids)
        bulk.append(BulkLine(index, f"{key}#{index}", member, plan.points, plan.vests_at,
                             plan.expires_at, None, details,
                             {"member": member, "reference": None, **details}))
    sent: Statements = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    with db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", keep)
        transaction = conn.begin()
        book_earns(conn, store=db.earn_store, issuer_id=partner_id,
                   scope=f"partner:{partner_id}", batch_key=key, lines=bulk, at=now)
        transaction.rollback()
        event.remove(conn, "before_cursor_execute", keep)
    return sent


def record_streams(db: Database, *, streams: int, batches: int,
                   lines: int) -> list[list[Statements]]:
    """`batches` recorded batches per stream; each stream books for its own slice of the
    members, as in partner_api.py."""
    with db.engine.connect() as conn:
        member_ids = list(conn.execute(select(members.c.id)).scalars())
        partner_id = conn.exec_driver_sql("SELECT id FROM parties WHERE code = 'bench'"
                                          ).scalar_one()
    return [[record_batch(db, partner_id=partner_id, member_ids=member_ids[n::streams],
                          lines=lines) for _ in range(batches)]
            for n in range(streams)]


def replay(conn: psycopg.Connection[Any], batches: list[Statements]) -> None:
    for statements in batches:
        with conn.transaction():
            for statement, parameters in statements:
                conn.execute(statement, parameters)  # prepared after 5 runs, as the hub's are


def measure(url: str, *, streams: int, batches: int, lines: int,
            pgbench_seconds: int | None = None) -> float:
    """Lines/s of the replay (after one warm-up batch per stream); prints its CPU split, and
    with `pgbench_seconds` pgbench TPC-B on the same server."""
    db = Database(url)
    work = record_streams(db, streams=streams, batches=batches + 1, lines=lines)
    # Connections stay open until the end: a backend's CPU leaves /proc with it.
    conns = [psycopg.connect(libpq(url)) for _ in work]
    with ThreadPoolExecutor(streams) as pool:
        list(pool.map(lambda c, batches: replay(c, batches[:1]), conns, work))  # warm-up
        pids = [conn.info.backend_pid for conn in conns]
        before, own = cpu_split.read(), cpu_split.backends(pids)
        list(pool.map(lambda c, batches: replay(c, batches[1:]), conns, work))
        spent, own = cpu_split.read() - before, cpu_split.backends(pids) - own
    for conn in conns:
        conn.close()
    booked = streams * batches * lines
    print(f"the batch's SQL alone, replayed from {streams} connections: "
          f"{booked / spent.wall:,.0f} lines/s, PostgreSQL "
          f"{1e6 * spent.postgres / booked:,.0f} µs of CPU per line (its backends "
          f"{1e6 * own / booked:,.0f} µs), replaying client "
          f"{1e6 * spent.client / booked:,.0f} µs (the machine was busy "
          f"{spent.busy / spent.wall:.2f} of its cores)")
    if pgbench_seconds is not None:
        with PgBench(clients=16, prepared=False) as pgbench:
            print(f"pgbench TPC-B (scale 10, 16 clients), same server: "
                  f"{pgbench.tps(pgbench_seconds):,.0f} tps")
    db.dispose()
    return booked / spent.wall
