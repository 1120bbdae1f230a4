"""What PostgreSQL writes per batch-earn line: the write set, and its CPU and WAL cost.

    .venv/bin/python infra/bench/batch_write_set.py [--streams 2] [--batches 4] [--lines 1000]
        [--ddl "SQL run on the fresh database first: a change measured alone"]
        [--compare "SQL": instead, the same batches on two copies, one changed by SQL, in turns]

Figures a busy shared server does not distort much (rates do): everything is counted for this
run's own connections and database only.
- the write set: each table's indexes and the foreign-key triggers fired per line, and the WAL
  records and bytes per line, from `EXPLAIN (ANALYZE, WAL)` of one batch's write statement
  (`pg_writer._MANY`, booked and rolled back);
- CPU per line: the batches replayed as `batch_ceiling.py` replays them, timed by the CPU of
  this run's own backends (/proc/<pid>/stat), not every postgres process on the machine;
- the floor: the same number of rows inserted into copies of the tables with the same indexes and
  nothing else (no foreign keys, no checks, no receipts built), same CPU measure.

With `--compare`, a change's CPU against the schema without it, in one run: two copies of the
fresh database (`--ddl` applied to both, the change to one), the same recorded batches replayed
on each in turns (the order swapped every batch), each copy's backend timed alone. On a loaded
machine two separate runs differ by more than a foreign key costs; taking turns, both copies
see the same load.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bench import cpu_split  # noqa: E402
from infra.bench.batch_replay import record_streams, replay  # noqa: E402
from infra.bench.databases import database_url, drop_database, libpq  # noqa: E402
from infra.bench.partner_api import build_world  # noqa: E402
from network.db.engine import Database  # noqa: E402
from network.ledger import pg_writer  # noqa: E402

TABLES = ("journal_entries", "postings", "lots", "idempotency_keys", "member_balances")


def indexes(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    rows = conn.execute("SELECT tablename, indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = ANY(%s) ORDER BY 1, 2", [list(TABLES)]).fetchall()
    out: dict[str, list[str]] = {}
    for table, name, definition in rows:
        where = definition.split(" WHERE ", 1)[1] if " WHERE " in definition else ""
        out.setdefault(table, []).append(name + (f" (where {where})" if where else ""))
    return out


def explain_batch(conn: psycopg.Connection[Any], statements: list[tuple[str, Any]],
                  lines: int) -> None:
    """One batch's write statement under EXPLAIN ANALYZE (its foreign-key triggers), and the
    WAL its transaction wrote by record kind and relation (pg_walinspect, this transaction's
    records only), rolled back."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
    conn.commit()
    with conn.transaction(force_rollback=True):
        xid = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0]
        start = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        for statement, parameters in statements:
            if statement == pg_writer._MANY:
                plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement,
                                    parameters).fetchone()[0][0]
            else:
                conn.execute(statement, parameters)
        end = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    # pg_walinspect reads flushed WAL only: wait for the WAL writer to pass our records.
    while conn.execute("SELECT pg_current_wal_flush_lsn() < %s::pg_lsn", [end]).fetchone()[0]:
        time.sleep(0.05)
    wal = conn.execute(
        "SELECT resource_manager || ' ' || record_type || coalesce(' ' || pg_filenode_relation("
        "0, (regexp_match(block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid)::text, ''), "
        "count(*), sum(record_length), sum(fpi_length) "
        "FROM pg_get_wal_records_info(%s, %s) WHERE xid = %s "
        "GROUP BY 1 ORDER BY 3 DESC", [start, end, xid % 2**32]).fetchall()
    conn.commit()
    records = sum(row[1] for row in wal)
    size = sum(row[2] for row in wal)
    print(f"WAL per line (the batch's transaction): {records / lines:.2f} records, "
          f"{size / lines:,.0f} bytes, of which:")
    for kind, count, length, fpi in wal:
        print(f"  {kind}: {count / lines:.2f} records, {length / lines:,.0f} bytes"
              + (f" ({fpi / lines:,.0f} in full-page images)" if fpi else ""))
    print(f"the write statement: {plan['Execution Time'] * 1000 / lines:,.1f} µs per line "
          "(wall time), of which foreign-key triggers:")
    for trigger in plan.get("Triggers", []):
        print(f"  {trigger['Trigger Name']} on {trigger['Relation']}: "
              f"{trigger['Calls'] / lines:.2f} calls, {trigger['Time'] * 1000 / lines:.1f} µs "
              "per line")


def floor(conn: psycopg.Connection[Any]) -> float:
    """CPU seconds of this backend to insert the booked rows again, per table in one statement,
    into copies with the same indexes and nothing else (no foreign keys, checks or receipts)."""
    spent = 0.0
    for table in TABLES[:4]:
        conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING DEFAULTS "
                     "INCLUDING INDEXES)")
        conn.commit()
        before = cpu_split.backends([conn.info.backend_pid])
        conn.execute(f"INSERT INTO floor_{table} SELECT * FROM {table}")
        conn.commit()
        spent += cpu_split.backends([conn.info.backend_pid]) - before
    return spent


def compare(world: str, change: str, work: list[list[Any]], lines: int) -> None:
    """CPU per line of the batches on a copy of `world` as it is and on one changed by `change`,
    the copies taking turns batch by batch."""
    copies = [f"{world}_as_is", f"{world}_changed"]
    try:
        with psycopg.connect(libpq(database_url(world)), autocommit=True) as admin:
            for copy in copies:
                admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{world}"')
        conns = [psycopg.connect(libpq(database_url(copy))) for copy in copies]
        for sql in change.split(";"):
            conns[1].execute(sql)
        conns[1].commit()
        batches = [batch for stream in work for batch in stream]
        for conn in conns:
            replay(conn, batches[:1])  # warm-up
        spent = [0.0, 0.0]
        for turn, batch in enumerate(batches[1:]):
            for side in ((0, 1) if turn % 2 == 0 else (1, 0)):
                pid = [conns[side].info.backend_pid]
                before = cpu_split.backends(pid)
                replay(conns[side], [batch])
                spent[side] += cpu_split.backends(pid) - before
        for conn in conns:
            conn.close()
    finally:
        for copy in copies:
            drop_database(copy)
    timed = (len(batches) - 1) * lines
    as_is, changed = (1e6 * x / timed for x in spent)
    print(f"PostgreSQL CPU per line, {len(batches) - 1} batches each in turns: as is "
          f"{as_is:,.1f} µs, changed {changed:,.1f} µs ({changed / as_is:.3f} of as is)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=2)
    parser.add_argument("--batches", type=int, default=4, help="per stream")
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--ddl", default="")
    parser.add_argument("--compare", default="", help="SQL: a change measured against none")
    args = parser.parse_args()

    name = f"pointsnet_bench_{uuid.uuid4().hex[:8]}"
    world = build_world(name, args.members)
    db = Database(world.url)
    try:
        if args.ddl:
            with psycopg.connect(libpq(world.url), autocommit=True) as conn:
                for sql in args.ddl.split(";"):  # one by one: VACUUM refuses a block
                    conn.execute(sql)
        work = record_streams(db, streams=args.streams, batches=args.batches + 1,
                              lines=args.lines)
        if args.compare:
            db.dispose()  # a template database takes no other connections
            compare(name, args.compare, work, args.lines)
            return
        conns = [psycopg.connect(libpq(world.url)) for _ in work]
        for table, found in indexes(conns[0]).items():
            print(f"{table}: {len(found)} indexes: {', '.join(found)}")
        explain_batch(conns[0], work[0][0], args.lines)
        for conn, batches in zip(conns, work, strict=True):
            replay(conn, batches[:1])  # warm-up, one after the other
        pids = [conn.info.backend_pid for conn in conns]
        before = cpu_split.backends(pids)
        with ThreadPoolExecutor(args.streams) as pool:
            list(pool.map(lambda c, batches: replay(c, batches[1:]), conns, work))
        spent = cpu_split.backends(pids) - before
        lines = args.streams * args.batches * args.lines
        print(f"PostgreSQL CPU per line (this run's backends only): {1e6 * spent / lines:,.1f} µs")
        total = conns[0].execute("SELECT count(*) FROM journal_entries").fetchone()[0]
        print(f"floor, the same rows into index-equal bare tables: "
              f"{1e6 * floor(conns[0]) / total:,.1f} µs per line")
        for conn in conns:
            conn.close()
        db.dispose()
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
