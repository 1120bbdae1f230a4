"""Instants given in another UTC offset mean the same instant on both databases.

SQLite keeps a datetime's wall clock and drops its offset, so the ledger must turn every instant
into UTC before it stores or compares one; PostgreSQL (timestamptz) would hide the mistake.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from network import ledger
from network.db.schema import journal_entries, lots
from network.ledger import errors
from network.ledger.balances import summary
from network.ledger.verify import verify
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
TEHRAN = timezone(timedelta(hours=3, minutes=30))
TICK = timedelta(microseconds=1)


def test_an_expiry_given_in_another_offset_expires_at_that_instant(db):
    cafe, m = w.partner(db, "cafe"), w.member(db)
    due = T0 + timedelta(days=9)
    ledger.earn(db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=m, points=10,
                expires_at=due.astimezone(TEHRAN), now=T0)
    stored = db.read(lambda c: c.execute(select(lots.c.expires_at)).scalar_one())
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == due
    assert ledger.expire_due(db, now=due - TICK).points == 0
    assert ledger.expire_due(db, now=due).points == 10
    assert verify(db) == []


def test_expire_due_given_a_now_in_another_offset_expires_only_what_is_due(db):
    cafe, m = w.partner(db, "cafe"), w.member(db)
    due = T0 + timedelta(days=9)
    ledger.earn(db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=m, points=10,
                expires_at=due, now=T0)
    assert ledger.expire_due(db, now=(due - timedelta(hours=1)).astimezone(TEHRAN)).points == 0
    assert db.read(summary, m, due - TICK).spendable == 10
    assert ledger.expire_due(db, now=due.astimezone(TEHRAN)).points == 10
    assert verify(db) == []


def test_an_operation_given_a_now_in_another_offset_happens_at_that_instant(db):
    cafe, m = w.partner(db, "cafe"), w.member(db)
    ledger.earn(db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=m, points=10,
                expires_at=T0 + timedelta(hours=1), now=T0 - timedelta(days=1))
    # 12:30 UTC, half an hour before the lot expires, told in Tehran's offset (16:00).
    r = ledger.redeem(db, scope="p", idempotency_key="r", partner_id=cafe, member_id=m,
                      points=10, now=(T0 + timedelta(minutes=30)).astimezone(TEHRAN))
    assert r.balance == 0
    booked = db.read(lambda c: c.execute(select(journal_entries.c.booked_at)
                                         .where(journal_entries.c.id == r.entry_id)).scalar_one())
    assert booked.replace(tzinfo=booked.tzinfo or UTC) == T0 + timedelta(minutes=30)
    assert verify(db) == []


def test_lots_and_holds_expire_at_their_exact_instant(db):
    cafe, m = w.partner(db, "cafe"), w.member(db)
    lot_due, hold_due = T0 + timedelta(days=30), T0 + timedelta(days=2)
    ledger.earn(db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=m, points=100,
                expires_at=lot_due, now=T0)
    one = ledger.authorize_hold(db, scope="p", idempotency_key="h1", partner_id=cafe,
                                member_id=m, points=10, expires_at=hold_due, now=T0)
    two = ledger.authorize_hold(db, scope="p", idempotency_key="h2", partner_id=cafe,
                                member_id=m, points=20, expires_at=hold_due, now=T0)
    # A tick before its expiry a hold can be captured and is not expired; at the instant, neither.
    ledger.capture_hold(db, scope="p", idempotency_key="c1", partner_id=cafe,
                        hold_id=one.hold_id, now=hold_due - TICK)
    assert ledger.expire_due(db, now=hold_due - TICK).holds == 0
    with pytest.raises(errors.HoldExpired):
        ledger.capture_hold(db, scope="p", idempotency_key="c2", partner_id=cafe,
                            hold_id=two.hold_id, now=hold_due)
    assert ledger.expire_due(db, now=hold_due).holds == 1
    # The same for a lot: spendable a tick before, expired at the instant.
    ledger.redeem(db, scope="p", idempotency_key="r1", partner_id=cafe, member_id=m, points=1,
                  now=lot_due - TICK)
    with pytest.raises(errors.InsufficientPoints):
        ledger.redeem(db, scope="p", idempotency_key="r2", partner_id=cafe, member_id=m,
                      points=1, now=lot_due)
    assert ledger.expire_due(db, now=lot_due - TICK).points == 0
    assert ledger.expire_due(db, now=lot_due).points == 89
    assert verify(db) == []
