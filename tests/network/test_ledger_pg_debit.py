"""The one-call debit on PostgreSQL (network/ledger/pg_debit.py, ledger_debit): it books exactly
what the general path books (the FIFO of `rules.fifo`, one consumption per lot, entry, postings,
balance, receipt), and it hands over to the general path whenever the common case does not hold.

Which path ran is told by the statements SQLAlchemy sends: the one-call debit sends none."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, select

from infra.migrate import upgrade
from network import idempotency, ledger
from network.db.engine import Database
from network.db.schema import consumptions, journal_entries, lots, postings
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


@contextmanager
def general_path(db: Database) -> Iterator[None]:
    store = db.earn_store
    db.earn_store = dataclasses.replace(store, debit_transaction=None)
    try:
        yield
    finally:
        db.earn_store = store


def give_lots(db: Database, member: int, issuers: list[int]) -> None:
    """Lots whose FIFO order is not their creation order: ties on expiry, a lot that never
    expires, one not vested yet, one expired, from several issuers."""
    days = [40, 10, 10, None, 25, 10, 90, None, 5]
    for i, d in enumerate(days):
        ledger.earn(db, scope="system", idempotency_key=w.key("lot"), issuer_id=issuers[i % 3],
                    member_id=member, points=10 + 7 * i, now=T0 - timedelta(days=30),
                    vests_at=T0 - timedelta(days=30),
                    expires_at=None if d is None else T0 + timedelta(days=d))
    ledger.earn(db, scope="system", idempotency_key=w.key("lot"), issuer_id=issuers[0],
                member_id=member, points=500, now=T0 - timedelta(days=30),
                vests_at=T0 + timedelta(days=3), expires_at=T0 + timedelta(days=20))  # unvested
    ledger.earn(db, scope="system", idempotency_key=w.key("lot"), issuer_id=issuers[1],
                member_id=member, points=300, now=T0 - timedelta(days=30),
                vests_at=T0 - timedelta(days=30), expires_at=T0 - timedelta(days=1))  # expired


def debits(db: Database, member: int, shop: int, charity: int) -> list[object]:
    """Redemptions and donations walking across lots; the last one asks for too much."""
    out: list[object] = []
    for i, points in enumerate([3, 17, 40, 1, 66, 25]):
        if i % 3 == 2:
            r = ledger.donate(db, scope="system", idempotency_key=f"d{member}-{i}",
                              member_id=member, charity_id=charity, points=points, now=T0)
        else:
            r = ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=f"r{member}-{i}",
                              partner_id=shop, member_id=member, points=points,
                              reference=f"till {i}", now=T0)
        out.append(r)
    with pytest.raises(errors.InsufficientPoints) as short:
        ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=f"r{member}-short",
                      partner_id=shop, member_id=member, points=10_000, now=T0)
    out.append(str(short.value))
    return out


def written(db: Database, member: int) -> dict[str, object]:
    """What the debits wrote for `member`, lots named by their creation order."""
    def read(conn):  # type: ignore[no-untyped-def]
        lot_ids = [r.id for r in conn.execute(
            select(lots.c.id).where(lots.c.member_id == member).order_by(lots.c.id))]
        name = {lot_id: n for n, lot_id in enumerate(lot_ids)}
        entries = conn.execute(
            select(journal_entries.c.id, journal_entries.c.kind, journal_entries.c.party_id,
                   journal_entries.c.points, journal_entries.c.reference,
                   journal_entries.c.booked_at)
            .where(journal_entries.c.member_id == member,
                   journal_entries.c.kind.in_(("redeem", "donate")))
            .order_by(journal_entries.c.id)).all()
        entry_no = {e.id: n for n, e in enumerate(entries)}
        used = conn.execute(
            select(consumptions.c.entry_id, consumptions.c.lot_id, consumptions.c.issuer_party_id,
                   consumptions.c.kind, consumptions.c.sink_party_id, consumptions.c.points,
                   consumptions.c.booked_at)
            .where(consumptions.c.member_id == member).order_by(consumptions.c.id)).all()
        lines = conn.execute(
            select(postings.c.entry_id, postings.c.account_kind, postings.c.party_id,
                   postings.c.points)
            .where(postings.c.entry_id.in_(list(entry_no))).order_by(postings.c.id)).all()
        remaining = [r.remaining for r in conn.execute(
            select(lots.c.remaining).where(lots.c.member_id == member).order_by(lots.c.id))]
        return {
            "entries": [tuple(e)[1:] for e in entries],
            "consumptions": [(entry_no[c.entry_id], name[c.lot_id], *tuple(c)[2:]) for c in used],
            "postings": [(entry_no[p.entry_id], *tuple(p)[1:]) for p in lines],
            "remaining": remaining,
        }
    return db.read(read)


def without_ids(receipts: list[object]) -> list[object]:
    return [dataclasses.replace(r, entry_id=0, member_id=0) if isinstance(r, ledger.Receipt)
            else r for r in receipts]


def test_the_one_call_debit_books_what_the_general_path_books(pg_db):
    issuers = [w.partner(pg_db, "cafe"), w.partner(pg_db, "telco"), w.partner(pg_db, "pharma")]
    shop, charity = w.partner(pg_db, "shop"), w.charity(pg_db, "trees")
    fast_member, slow_member = w.member(pg_db), w.member(pg_db)
    give_lots(pg_db, fast_member, issuers)
    give_lots(pg_db, slow_member, issuers)

    with statements(pg_db) as sent:
        fast = debits(pg_db, fast_member, shop, charity)
    assert sent == []  # no SQLAlchemy statement: every debit went through pg_debit
    with general_path(pg_db), statements(pg_db) as sent:
        slow = debits(pg_db, slow_member, shop, charity)
    assert sent  # the general path did run

    assert without_ids(fast) == without_ids(slow)
    assert written(pg_db, fast_member) == written(pg_db, slow_member)
    # The walk crossed lots: several consumptions per debit, tie on expiry broken by age.
    assert len(written(pg_db, fast_member)["consumptions"]) > 6  # type: ignore[arg-type]
    assert verify(pg_db) == []


def test_a_short_debit_writes_nothing(pg_db):
    shop, m = w.partner(pg_db, "shop"), w.member(pg_db)
    ledger.earn(pg_db, scope="system", idempotency_key="e", issuer_id=shop, member_id=m,
                points=50, now=T0)
    before = w.row_counts(pg_db)
    with pytest.raises(errors.InsufficientPoints, match="50 spendable points; 51 were asked"):
        ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop, member_id=m,
                      points=51, now=T0)
    assert w.row_counts(pg_db) == before


def test_a_key_another_transaction_holds_is_in_progress_and_nothing_is_written(pg_db):
    """A key whose lock another transaction holds: the one-call debit refuses at once
    (it neither waits nor hands over to the general path) and writes nothing."""
    shop, m = w.partner(pg_db, "shop"), w.member(pg_db)
    ledger.earn(pg_db, scope="system", idempotency_key="e", issuer_id=shop, member_id=m,
                points=50, now=T0)
    before = w.row_counts(pg_db)
    with pg_db.engine.connect() as other:
        other.exec_driver_sql("SELECT pg_advisory_xact_lock(%(k)s)",
                              {"k": idempotency.advisory_key("p", "r")})
        with statements(pg_db) as sent, pytest.raises(errors.IdempotencyInProgress):
            ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop, member_id=m,
                          points=20, now=T0)
        assert sent == []  # refused by the one-call debit itself
        other.rollback()
    assert w.row_counts(pg_db) == before
    assert ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop, member_id=m,
                         points=20, now=T0).balance == 30


def test_a_replay_returns_the_first_receipt_and_a_changed_request_is_refused(pg_db):
    shop, m = w.partner(pg_db, "shop"), w.member(pg_db)
    ledger.earn(pg_db, scope="system", idempotency_key="e", issuer_id=shop, member_id=m,
                points=50, now=T0)
    first = ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop, member_id=m,
                          points=20, now=T0)
    before = w.row_counts(pg_db)
    with statements(pg_db) as sent:
        again = ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop,
                              member_id=m, points=20, now=T0 + timedelta(minutes=5))
    assert sent == [] and again == first and w.row_counts(pg_db) == before
    with pytest.raises(errors.IdempotencyKeyReused):
        ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop, member_id=m,
                      points=21, now=T0)
    assert first.balance == 30


def test_what_the_common_case_does_not_cover_is_named_by_the_general_path(pg_db):
    shop, charity, m = w.partner(pg_db, "shop"), w.charity(pg_db, "trees"), w.member(pg_db)
    ledger.earn(pg_db, scope="system", idempotency_key="e", issuer_id=shop, member_id=m,
                points=50, now=T0)
    before = w.row_counts(pg_db)
    with pytest.raises(errors.PartyNotFound):
        ledger.redeem(pg_db, scope="p", idempotency_key="a", partner_id=charity, member_id=m,
                      points=5, now=T0)
    with pytest.raises(errors.PartyNotFound) as no_charity:
        ledger.donate(pg_db, scope="p", idempotency_key="b", charity_id=shop, member_id=m,
                      points=5, now=T0)
    assert no_charity.value.code == "CHARITY_NOT_FOUND"
    with pytest.raises(errors.MemberNotFound):
        ledger.redeem(pg_db, scope="p", idempotency_key="c", partner_id=shop, member_id=m + 999,
                      points=5, now=T0)
    assert w.row_counts(pg_db) == before


def _spend_15_of_200_lots(pg_db: Database, reads: str, *, analyzed: bool = False
                          ) -> tuple[int, Any, list[int]]:
    """A member with 200 open lots of 10 points spends 15: the member, the receipt, and the
    rows of `lots` the one call read, as PostgreSQL counts them for the transaction (`reads`:
    the pg_stat_xact_user_tables columns summed). `analyzed`: ANALYZE lots first."""
    shop, m = w.partner(pg_db, "shop"), w.member(pg_db)
    for i in range(200):
        ledger.earn(pg_db, scope="system", idempotency_key=w.key("lot"), issuer_id=shop,
                    member_id=m, points=10, now=T0 - timedelta(days=1),
                    expires_at=T0 + timedelta(days=200 - i))  # the newest lots expire first
    if analyzed:
        pg_db.write(lambda conn: conn.exec_driver_sql("ANALYZE lots"))
    read: list[int] = []
    counter = (f"SELECT coalesce(sum({reads}), 0) AS n"
               " FROM pg_stat_xact_user_tables WHERE relname = 'lots'")

    def counting(fn):  # type: ignore[no-untyped-def]
        def body(execute):  # type: ignore[no-untyped-def]
            def counted(sql, params):  # type: ignore[no-untyped-def]
                before = execute(counter, {}).n
                row = execute(sql, params)
                read.append(execute(counter, {}).n - before)
                return row
            return fn(counted)
        return pg_db.pg_transaction(body)

    store = pg_db.earn_store
    pg_db.earn_store = dataclasses.replace(
        store, debit_transaction=lambda _t, **kw: store.debit_transaction(counting, **kw))
    try:
        receipt = ledger.redeem(pg_db, scope="p", idempotency_key="r", partner_id=shop,
                                member_id=m, points=15, now=T0)
    finally:
        pg_db.earn_store = store
    return m, receipt, read


def test_the_walk_reads_the_lots_it_takes_not_every_open_lot(pg_db):
    """A member with 200 open lots spends from the first two: the debit reads a handful of lot
    rows (counted by PostgreSQL for the transaction), where a walk over every open lot read
    200, and the general path books the same."""
    m, receipt, read = _spend_15_of_200_lots(pg_db, "seq_tup_read + idx_tup_fetch")
    assert receipt.balance == 2000 - 15
    assert len(read) == 1 and 2 <= read[0] <= 6  # one call: about the two lots taken
    newest = pg_db.read(lambda conn: [r.remaining for r in conn.execute(
        select(lots.c.remaining).where(lots.c.member_id == m).order_by(lots.c.id.desc())
        .limit(3))])
    assert newest == [0, 5, 10]  # FIFO: the lots expiring first, not the oldest
    assert verify(pg_db) == []


@pytest.fixture
def own_pg_db(pg_url: str) -> Iterator[Database]:
    """A PostgreSQL database of its own, migrated: statistics that ANALYZE writes outlive the
    shared database's TRUNCATE, and must not change other tests' plans."""
    name = f"pointsnet_analyzed_{uuid.uuid4().hex[:10]}"
    admin_url = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_walk_keeps_to_the_ordered_index_once_lots_has_statistics(own_pg_db):
    """With statistics on `lots` (autovacuum's ANALYZE on any live database), the planner
    costed the cursor's ordered walk above reading all the member's lots and sorting them:
    through ix_lots_member on the benchmark's database, in sequence on a table as small as
    this one, so the walk fetched no lot through an index (migration 0036_debit_walk_plan
    turns sorting off in the function). It fetches the two lots it takes through the ordered
    index. Only rows fetched through an index count here: on a table this small the lot's
    update by its key reads the table's few pages in sequence, the planner's right choice at
    that size."""
    m, receipt, read = _spend_15_of_200_lots(own_pg_db, "idx_tup_fetch", analyzed=True)
    assert receipt.balance == 2000 - 15
    assert len(read) == 1 and 2 <= read[0] <= 6  # one call: the two lots taken, by the index
    newest = own_pg_db.read(lambda conn: [r.remaining for r in conn.execute(
        select(lots.c.remaining).where(lots.c.member_id == m).order_by(lots.c.id.desc())
        .limit(3))])
    assert newest == [0, 5, 10]  # FIFO: the lots expiring first, not the oldest
    assert verify(own_pg_db) == []
