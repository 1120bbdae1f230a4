"""Each invariant `ledger verify` checks catches a corruption made by hand in the database.

Every corruption is made inside a transaction that is rolled back, with the checks run on that
same connection, so one healthy ledger serves every case. Where a CHECK constraint or a foreign
key already forbids the corruption, it is set aside for that transaction: verify is the second
line of defence and must still name the fault.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from network import ledger
from network.db.engine import Database
from network.ledger.verify import CHECKS, _run_checks, verify
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

# check name -> (statements that corrupt one row, what forbids it: "check" a CHECK constraint;
# None nothing)
CORRUPTIONS: dict[str, tuple[list[str], str | None]] = {
    "entry postings sum to zero": (
        ["UPDATE postings SET points = points - 1 WHERE entry_id = :earn "
         "AND account_kind = 'issuance'"], None),
    "posting belongs to its entry's member": (
        ["UPDATE postings SET member_id = :other WHERE entry_id = :earn "
         "AND account_kind = 'issuance'"], None),
    "entry names an existing party": (
        ["UPDATE journal_entries SET party_id = (SELECT max(id) + 1 FROM parties) "
         "WHERE id = :redeem"], None),
    "entry's member exists": (
        ["UPDATE journal_entries SET member_id = (SELECT max(id) + 1 FROM members) "
         "WHERE id = :redeem"], None),
    "lot belongs to its entry's member": (
        ["UPDATE lots SET entry_id = (SELECT max(id) + 1 FROM journal_entries) "
         "WHERE id = :lot"], None),
    "lot names an existing issuer": (
        ["UPDATE lots SET issuer_party_id = (SELECT max(id) + 1 FROM parties) "
         "WHERE id = :lot"], None),
    "consumption belongs to its entry's and lot's member": (
        ["UPDATE consumptions SET lot_id = (SELECT max(id) + 1 FROM lots) "
         "WHERE entry_id = :redeem"], None),
    # an award (the ledger_world has none) of the first earn, to a campaign or by a funder
    # that does not exist
    "award names an existing campaign": (
        ["INSERT INTO campaign_awards (entry_id, campaign_id, tier_code, member_id, "
         "funder_party_id, points, booked_at) SELECT id, (SELECT COALESCE(max(id), 0) + 1 "
         "FROM campaigns), NULL, member_id, party_id, 10, booked_at FROM journal_entries "
         "WHERE id = :earn"], None),
    "award names an existing funder": (
        ["INSERT INTO campaign_awards (entry_id, campaign_id, tier_code, member_id, "
         "funder_party_id, points, booked_at) SELECT id, NULL, 'gold', member_id, "
         "(SELECT max(id) + 1 FROM parties), 10, booked_at FROM journal_entries "
         "WHERE id = :earn"], None),
    "member balance equals wallet postings": (
        ["UPDATE member_balances SET balance = balance + 1 WHERE member_id = :m"], None),
    "member held equals hold postings": (
        ["UPDATE member_balances SET held = held + 1 WHERE member_id = :m"], None),
    "member lots equal balance": (
        ["UPDATE lots SET remaining = remaining - 1 WHERE id = :lot"], None),
    "hold allocations equal held": (
        ["UPDATE hold_allocations SET points = points - 1 WHERE hold_id = :hold"], None),
    "positive lot conserved": (
        ["UPDATE lots SET points = points + 1 WHERE id = :lot"], None),
    "debt lot conserved": (
        ["UPDATE lots SET points = points - 1 WHERE id = :debt_lot"], None),
    "entry consumptions equal points spent": (
        ["UPDATE journal_entries SET points = points + 1 WHERE id = :redeem"], None),
    "debt equals open debt lots": (
        ["UPDATE member_balances SET debt = debt + 1 WHERE member_id = :other"], None),
    "negative balance only by debt": (
        ["UPDATE member_balances SET debt = 0 WHERE member_id = :other"], None),
    "lot remaining within its points": (
        ["UPDATE lots SET remaining = points + 1 WHERE id = :lot"], "check"),
    "hold allocations match hold": (
        ["UPDATE holds SET points = points + 1 WHERE id = :hold"], None),
    "wallet summary equals entries": (
        ["UPDATE wallet_summary SET spent = spent + 1 WHERE member_id = :m"], None),
    "wallet earned days equal entries": (
        ["UPDATE wallet_earned_days SET earned = earned - 1 WHERE member_id = :m"], None),
}


@pytest.fixture
def ledger_world(db: Database) -> dict[str, int]:
    """A ledger with an open hold, a spent lot, a partly repaid debt and an expiry: all sound."""
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    m, other = w.member(db), w.member(db)

    def earn(member: int, issuer: int, points: int, at: datetime = T0,
             days: int = 30) -> ledger.Receipt:
        return ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=issuer,
                           member_id=member, points=points,
                           expires_at=T0 + timedelta(days=days), now=at)

    first = earn(m, cafe, 100)
    later = earn(m, shop, 50, T0 + timedelta(seconds=1))
    redeem = ledger.redeem(db, scope="p", idempotency_key=w.key(), partner_id=shop, member_id=m,
                           points=60, now=T0)
    hold = ledger.authorize_hold(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                                 member_id=m, points=30, now=T0)
    owed = earn(other, cafe, 20)
    ledger.redeem(db, scope="p", idempotency_key=w.key(), partner_id=shop, member_id=other,
                  points=20, now=T0)
    clawback = ledger.reverse_earn(db, scope="p", idempotency_key=w.key(), partner_id=cafe,
                                   entry_id=owed.entry_id, now=T0)
    earn(other, shop, 5)
    earn(m, cafe, 7, days=1)
    assert ledger.expire_due(db, now=T0 + timedelta(days=2)).points == 7
    debt_lot = db.read(lambda c: c.execute(text(
        "SELECT id FROM lots WHERE entry_id = :e AND points < 0"), {"e": clawback.entry_id}
    ).scalar_one())
    assert verify(db) == []
    return {"m": m, "other": other, "earn": first.entry_id, "lot": later.lot_id,
            "redeem": redeem.entry_id, "hold": hold.hold_id, "debt_lot": debt_lot}


def _set_constraints_aside(conn) -> None:  # type: ignore[no-untyped-def]
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA ignore_check_constraints = ON"))
        return
    for (name,) in conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'lots'::regclass "
            "AND contype = 'c'")).all():
        conn.execute(text(f'ALTER TABLE lots DROP CONSTRAINT "{name}"'))


def test_every_check_has_a_corruption_here():
    assert set(CORRUPTIONS) == set(CHECKS)


@pytest.mark.parametrize("check", list(CORRUPTIONS))
def test_verify_names_each_corruption(db, ledger_world, check):
    statements, constrained = CORRUPTIONS[check]
    with db.engine.connect() as conn:
        try:
            if constrained:
                _set_constraints_aside(conn)
            for sql in statements:
                params = {k: v for k, v in ledger_world.items() if f":{k}" in sql}
                assert conn.execute(text(sql), params).rowcount >= 1
            found = {v.check: v for v in _run_checks(conn)}
        finally:
            conn.rollback()
            if constrained == "check" and conn.dialect.name == "sqlite":
                conn.execute(text("PRAGMA ignore_check_constraints = OFF"))
    assert check in found, sorted(found)
    assert found[check].count >= 1 and found[check].examples
    assert verify(db) == []  # rolled back: the ledger itself was never harmed


def test_verify_names_a_posting_without_its_entry(db, ledger_world):
    """No foreign key holds a posting to its entry (migration 0030): verify is what names an
    orphan posting (the issuance side of the first earn, moved to an entry that does not exist)."""
    with db.engine.connect() as conn:
        try:
            assert conn.execute(text(
                "UPDATE postings SET entry_id = (SELECT max(id) + 1 FROM journal_entries) "
                "WHERE entry_id = :earn AND account_kind = 'issuance'"),
                {"earn": ledger_world["earn"]}).rowcount == 1
            found = {v.check: v for v in _run_checks(conn)}
        finally:
            conn.rollback()
    orphan = found["posting belongs to its entry's member"]
    assert orphan.count == 1 and orphan.examples[0]["entry_member"] is None
    assert verify(db) == []


def test_verify_names_a_consumption_of_another_member_s_entry(db, ledger_world):
    """No foreign key holds a consumption to its entry and lot (migration 0031): verify names a
    consumption whose entry is another member's, as that key did."""
    with db.engine.connect() as conn:
        try:
            assert conn.execute(text(
                "UPDATE consumptions SET entry_id = (SELECT min(id) FROM journal_entries "
                "WHERE member_id = :other) WHERE entry_id = :redeem"),
                {"other": ledger_world["other"], "redeem": ledger_world["redeem"]}).rowcount >= 1
            found = {v.check: v for v in _run_checks(conn)}
        finally:
            conn.rollback()
    stray = found["consumption belongs to its entry's and lot's member"]
    assert stray.count >= 1
    assert stray.examples[0]["entry_member"] == ledger_world["other"]
    assert verify(db) == []


def test_verify_names_a_lot_of_another_member_s_entry(db, ledger_world):
    """No foreign key holds a lot to its entry (migration 0037): verify names a lot whose entry
    is another member's, as that key did, and through the entry's member that a lot's member
    exists."""
    with db.engine.connect() as conn:
        try:
            assert conn.execute(text(
                "UPDATE lots SET entry_id = (SELECT min(id) FROM journal_entries "
                "WHERE member_id = :other) WHERE id = :lot"),
                {"other": ledger_world["other"], "lot": ledger_world["lot"]}).rowcount == 1
            found = {v.check: v for v in _run_checks(conn)}
        finally:
            conn.rollback()
    stray = found["lot belongs to its entry's member"]
    assert stray.count == 1 and stray.examples[0]["entry_member"] == ledger_world["other"]
    assert verify(db) == []


def test_verify_names_a_lot_whose_member_does_not_exist(db, ledger_world):
    """A lot and its entry moved, together, to a member nobody holds: no key refuses it now
    (migration 0037); verify names the entry's missing member, and the lot matches its entry."""
    with db.engine.connect() as conn:
        try:
            ghost = conn.execute(text("SELECT max(id) + 1 FROM members")).scalar_one()
            entry = conn.execute(text("SELECT entry_id FROM lots WHERE id = :lot"),
                                 {"lot": ledger_world["lot"]}).scalar_one()
            for table, column in (("journal_entries", "id"), ("lots", "entry_id"),
                                  ("postings", "entry_id")):
                assert conn.execute(text(f"UPDATE {table} SET member_id = :g "
                                         f"WHERE {column} = :e"),
                                    {"g": ghost, "e": entry}).rowcount >= 1
            found = {v.check: v for v in _run_checks(conn)}
        finally:
            conn.rollback()
    missing = found["entry's member exists"]
    assert missing.count == 1 and missing.examples[0]["member_id"] == ghost
    assert "lot belongs to its entry's member" not in found
    assert verify(db) == []
