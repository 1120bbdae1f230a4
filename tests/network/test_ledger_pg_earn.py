"""The one-statement earn on PostgreSQL (network/ledger/pg_writer.py): it books exactly what the
general path books, and it hands over to the general path whenever the common case does not hold.

Which path ran is told by the statements SQLAlchemy sends: the one-statement earn sends none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from network import ledger
from network.db.engine import Database
from network.db.schema import idempotency_keys, journal_entries, lots, postings
from network.ledger import errors
from network.ledger.verify import verify
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def earn(db: Database, partner: int, member: int, points: int, key: str,
         **kwargs: object) -> ledger.Receipt:
    return ledger.earn(db, scope=f"partner:{partner}", idempotency_key=key, issuer_id=partner,
                       member_id=member, points=points, now=T0, **kwargs)  # type: ignore[arg-type]


def test_a_plain_earn_is_one_statement_and_books_entry_postings_lot_and_receipt(pg_db):
    cafe, m = w.partner(pg_db, "cafe"), w.member(pg_db)
    before = w.row_counts(pg_db)
    with statements(pg_db) as sent:
        r = earn(pg_db, cafe, m, 120, "k1", reference="till 4", details={"amount": "12.00"},
                 vests_at=T0 + timedelta(days=14), expires_at=T0 + timedelta(days=730))
    assert sent == []
    after = w.row_counts(pg_db)
    grown = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    assert grown == {"journal_entries": 1, "postings": 2, "lots": 1, "idempotency_keys": 1,
                     "wallet_summary": 1, "wallet_earned_days": 1}

    assert (r.kind, r.member_id, r.points, r.balance, r.held, r.debt, r.hold_id) == \
        ("earn", m, 120, 120, 0, 0, None)
    assert r.booked_at == "2026-10-01T12:00:00+00:00"
    entry = pg_db.read(lambda c: c.execute(select(journal_entries)
                                           .where(journal_entries.c.id == r.entry_id)).one())
    assert (entry.kind, entry.member_id, entry.party_id, entry.points, entry.reference,
            entry.details, entry.booked_at) == ("earn", m, cafe, 120, "till 4",
                                                {"amount": "12.00"}, T0)
    lines = pg_db.read(lambda c: c.execute(
        select(postings.c.account_kind, postings.c.member_id, postings.c.party_id,
               postings.c.points).where(postings.c.entry_id == r.entry_id)
        .order_by(postings.c.id)).all())
    assert [tuple(x) for x in lines] == [("issuance", m, cafe, -120),
                                         ("member_wallet", m, None, 120)]
    lot = pg_db.read(lambda c: c.execute(select(lots).where(lots.c.id == r.lot_id)).one())
    assert (lot.member_id, lot.entry_id, lot.issuer_party_id, lot.points, lot.remaining,
            lot.vests_at, lot.expires_at) == (m, r.entry_id, cafe, 120, 120,
                                              T0 + timedelta(days=14), T0 + timedelta(days=730))
    stored = pg_db.read(lambda c: c.execute(select(idempotency_keys.c.response)
                                            .where(idempotency_keys.c.key == "k1")).scalar_one())
    assert stored == r.as_dict()
    assert verify(pg_db) == []


def test_a_replay_returns_the_first_receipt_and_a_changed_request_is_refused(pg_db):
    cafe, m = w.partner(pg_db, "cafe"), w.member(pg_db)
    first = earn(pg_db, cafe, m, 10, "same")
    before = w.row_counts(pg_db)
    with statements(pg_db) as sent:
        again = ledger.earn(pg_db, scope=f"partner:{cafe}", idempotency_key="same",
                            issuer_id=cafe, member_id=m, points=10, now=T0 + timedelta(hours=1))
    assert sent == [] and again == first
    with pytest.raises(errors.IdempotencyKeyReused):
        earn(pg_db, cafe, m, 11, "same")
    assert w.row_counts(pg_db) == before


def test_a_member_in_debt_goes_the_general_way_and_repays_first(pg_db):
    cafe, shop, m = w.partner(pg_db, "cafe"), w.partner(pg_db, "shop"), w.member(pg_db)
    e = earn(pg_db, cafe, m, 100, "e")
    ledger.redeem(pg_db, scope=f"partner:{shop}", idempotency_key="r", partner_id=shop,
                  member_id=m, points=100, now=T0)
    ledger.reverse_earn(pg_db, scope=f"partner:{cafe}", idempotency_key="x", partner_id=cafe,
                        entry_id=e.entry_id, now=T0)
    with statements(pg_db) as sent:
        r = earn(pg_db, shop, m, 30, "after-debt")
    assert sent != []
    assert (r.balance, r.debt) == (-70, 70)
    assert verify(pg_db) == []


@pytest.mark.parametrize("who", ["member", "issuer"])
def test_unknown_member_or_issuer_is_named_by_the_general_path_and_nothing_is_written(pg_db, who):
    cafe, m = w.partner(pg_db, "cafe"), w.member(pg_db)
    charity = w.charity(pg_db, "mahak")
    before = w.row_counts(pg_db)
    if who == "member":
        with pytest.raises(errors.MemberNotFound):
            earn(pg_db, cafe, m + 999, 5, "k")
    else:
        with pytest.raises(errors.PartyNotFound):  # a charity issues no points
            earn(pg_db, charity, m, 5, "k")
    assert w.row_counts(pg_db) == before


def test_a_connection_the_server_dropped_is_replaced(pg_url):
    """pg_statement bypasses SQLAlchemy's pool, so it must replace a dead connection itself:
    one the server ended between statements (a restart) is replaced before anything is sent on
    it, so the statement succeeds; one that breaks under a statement fails that statement and
    is discarded, so that later requests on the thread are not handed the same broken one."""
    import psycopg

    pid_sql = "SELECT pg_backend_pid() AS pid"
    db = Database(pg_url, pool_size=1, max_overflow=0)
    try:
        pid = db.pg_statement(pid_sql, {}).pid
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"),
                             autocommit=True) as admin:
            # The timeout waits until the backend has exited, as after a restart.
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        replaced = db.pg_statement(pid_sql, {}).pid
        assert replaced != pid
        with pytest.raises(psycopg.OperationalError):
            db.pg_statement("SELECT pg_terminate_backend(pg_backend_pid()) AS gone", {})
        assert db.pg_statement(pid_sql, {}).pid not in (pid, replaced)
    finally:
        db.dispose()


def test_each_thread_runs_its_statements_on_its_own_connection_until_dispose(pg_url):
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    db = Database(pg_url)
    pid = "SELECT pg_backend_pid() AS pid"
    try:
        mine = db.pg_statement(pid, {}).pid
        assert db.pg_statement(pid, {}).pid == mine  # kept, not reconnected
        with ThreadPoolExecutor(2) as pool:
            other = pool.submit(lambda: [db.pg_statement(pid, {}).pid for _ in range(2)]).result()
        assert other[0] == other[1] != mine
        db.dispose()
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as admin:
            alive = {row[0] for row in admin.execute("SELECT pid FROM pg_stat_activity")}
        assert not alive & {mine, other[0]}  # dispose closed every thread's connection
        assert db.pg_statement(pid, {}).pid not in (mine, other[0])  # and a new one is opened
    finally:
        db.dispose()


def test_a_statement_connection_is_recycled_like_the_pool(pg_url, monkeypatch):
    from network.db import engine

    db = Database(pg_url)
    pid = "SELECT pg_backend_pid() AS pid"
    try:
        first = db.pg_statement(pid, {}).pid
        monkeypatch.setattr(engine, "RECYCLE_SECONDS", -1)
        assert db.pg_statement(pid, {}).pid != first
    finally:
        db.dispose()
