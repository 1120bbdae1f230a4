"""Client CPU of one earn, and of building a statement versus reusing one, on PostgreSQL.

    .venv/bin/python -m infra.bench.earn_cost [--earns 2000]

Why the ledger builds its hot statements once (network/ledger/balances.py), why reads skip
BEGIN/COMMIT and the partner hot path bypasses SQLAlchemy on PostgreSQL (network/db/engine.py), and
what one earn costs (network/ledger/pg_writer.py): it prints process CPU per operation, which moves
far less with machine load than wall time does (it includes the kernel's socket work).
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from infra.bench.databases import create_database, drop_database
from infra.migrate import upgrade
from network import ledger, members, parties
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import member_balances


def cpu_per_call(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(min(100, n)):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--earns", type=int, default=2000)
    args = parser.parse_args()
    name = f"pointsnet_bench_cost_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    try:
        upgrade(url)
        db = Database(url)
        partner = db.write(lambda c: parties.create(c, kind="partner", code="p", name="P"))
        member_ids = [members.enrol(db, secret="s", scope="system", idempotency_key=f"m{i}",
                                    enrolled_by=partner).id for i in range(50)]
        now = utcnow()
        prebuilt = (update(member_balances)
                    .where(member_balances.c.member_id == bindparam("m"))
                    .values(balance=member_balances.c.balance + bindparam("d"))
                    .returning(member_balances.c.balance))
        with db.engine.connect() as conn:
            built = cpu_per_call(lambda: conn.execute(
                update(member_balances).where(member_balances.c.member_id == member_ids[0])
                .values(balance=member_balances.c.balance + 1)
                .returning(member_balances.c.balance)).scalar_one(), args.earns)
            reused = cpu_per_call(lambda: conn.execute(
                prebuilt, {"m": member_ids[0], "d": 1}).scalar_one(), args.earns)
            conn.rollback()
        lookup = select(member_balances.c.balance).where(
            member_balances.c.member_id == bindparam("m"))

        def in_transaction() -> int:
            with db.engine.connect() as conn, conn.begin():
                return conn.execute(lookup, {"m": member_ids[0]}).scalar_one()

        transaction = cpu_per_call(in_transaction, args.earns)
        autocommit = cpu_per_call(lambda: db.read(
            lambda c: c.execute(lookup, {"m": member_ids[0]}).scalar_one()), args.earns)
        direct = cpu_per_call(lambda: db.pg_statement(
            "SELECT balance FROM member_balances WHERE member_id = %(m)s",
            {"m": member_ids[0]}).balance, args.earns)
        counter = iter(range(10**9))
        expires = now + timedelta(days=365)
        earn = cpu_per_call(lambda: ledger.earn(
            db, scope="bench", idempotency_key=f"e{next(counter)}", issuer_id=partner,
            member_id=member_ids[next(counter) % 50], points=5, expires_at=expires), args.earns)
        db.dispose()
    finally:
        drop_database(name)
    print(f"statement built on each call:  {built:8.0f} us client CPU")
    print(f"statement built once, reused:  {reused:8.0f} us client CPU "
          f"({built / reused:.1f}x less)")
    print(f"one SELECT, SQLAlchemy, BEGIN…COMMIT: {transaction:6.0f} us client CPU")
    print(f"one SELECT, Database.read (autocommit): {autocommit:4.0f} us client CPU")
    print(f"one SELECT, Database.pg_statement:  {direct:8.0f} us client CPU "
          f"({transaction / direct:.1f}x less than in a transaction)")
    print(f"one ledger.earn (one statement):    {earn:8.0f} us client CPU")


if __name__ == "__main__":
    main()
