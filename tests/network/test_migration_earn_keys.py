"""0037_earn_keys on both databases, and back: the three keys an earn's entry and lot no longer
check are gone, and `ledger verify` names each fault they refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from network.ledger.verify import _run_checks
from tests.network import wallet_world as ww
from tests.network.test_migration_batch_write_set import _foreign_keys
from tests.network.test_migration_member_keys import _entry, _member
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0034_debit_function"
ENTRY_MEMBER = ("member_id", "members")
LOTS_ENTRY = ("entry_id", "member_id", "journal_entries")
LOTS_ISSUER = ("issuer_party_id", "parties")

# each fault one of the keys refused: the statement that makes it, the check that names it
FAULTS = {
    "entry's member exists": "INSERT INTO journal_entries (member_id, kind, points, booked_at) "
                             "VALUES (:m + 1000, 'earn', 100, :t)",
    "lot belongs to its entry's member": "INSERT INTO lots (member_id, entry_id, issuer_party_id, "
                                         "points, remaining, vests_at, created_at) VALUES (:m, "
                                         ":e + 1000, :p, 100, 100, :t, :t)",
    "lot names an existing issuer": "INSERT INTO lots (member_id, entry_id, issuer_party_id, "
                                    "points, remaining, vests_at, created_at) VALUES (:m, :e, "
                                    ":p + 1000, 100, 100, :t, :t)",
}


def _world(conn: sa.Connection) -> dict[str, object]:
    party = conn.execute(sa.text(
        "INSERT INTO parties (kind, code, name, created_at) VALUES ('partner', 'p', 'P', :t) "
        "RETURNING id"), {"t": ww.T0}).scalar_one()
    member = _member(conn, "1001")
    return {"m": member, "e": _entry(conn, member), "p": party, "t": ww.T0}


def test_the_keys_go_verify_names_their_faults_and_they_come_back(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        params = db.write(_world)
        assert ENTRY_MEMBER in _foreign_keys(db, "journal_entries")
        assert {LOTS_ENTRY, LOTS_ISSUER} <= _foreign_keys(db, "lots")
        for sql in FAULTS.values():  # each refused by its key before
            with pytest.raises(sa.exc.IntegrityError):
                db.write(lambda c, sql=sql: c.execute(sa.text(sql), params))

        upgrade(empty_url, "heads")
        db.engine.dispose()
        with db.engine.connect() as conn:
            assert drift(conn) == []
        assert ENTRY_MEMBER not in _foreign_keys(db, "journal_entries")
        assert _foreign_keys(db, "lots") & {LOTS_ENTRY, LOTS_ISSUER} == set()
        for check, sql in FAULTS.items():  # let by now, and named by verify
            with db.engine.connect() as conn:
                try:
                    conn.execute(sa.text(sql), params)
                    found = {v.check for v in _run_checks(conn)}
                finally:
                    conn.rollback()
            assert check in found, (check, sorted(found))

        downgrade(empty_url, BEFORE)
        db.engine.dispose()  # SQLite: a pooled connection may still see the tables as they were
        assert ENTRY_MEMBER in _foreign_keys(db, "journal_entries")
        assert {LOTS_ENTRY, LOTS_ISSUER} <= _foreign_keys(db, "lots")
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()
