"""0031_debit_write_set and 0032_consumption_indexes on both databases, and back: the three
foreign keys and two indexes a redemption no longer pays for are gone, and they come back on
downgrade (verify names what the keys refused: tests/network/test_ledger_verify_detects.py)."""

from __future__ import annotations

import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from tests.network.test_migration_batch_write_set import _foreign_keys
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0030_batch_write_set"
LAST_WITH_MEMBER_KEY = "0034_debit_function"
ENTRY_PARTY = ("party_id", "parties")
ENTRY_MEMBER = ("member_id", "members")
CONSUMPTION_ENTRY = ("entry_id", "member_id", "journal_entries")
CONSUMPTION_LOT = ("lot_id", "member_id", "lots")
DROPPED = {"ix_consumptions_entry", "ix_consumptions_lot"}


def _indexes(db: Database) -> set[str]:
    return {ix["name"] for ix in db.read(lambda c: sa.inspect(c).get_indexes("consumptions"))}


def test_a_debit_s_keys_and_indexes_go_and_come_back(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        assert ENTRY_PARTY in _foreign_keys(db, "journal_entries")
        assert _foreign_keys(db, "consumptions") == {CONSUMPTION_ENTRY, CONSUMPTION_LOT}
        assert DROPPED <= _indexes(db)
        # the member's key goes too in 0037 (test_migration_earn_keys.py): what 0031 and 0032
        # left is checked before it
        upgrade(empty_url, LAST_WITH_MEMBER_KEY)
        db.engine.dispose()
        keys = _foreign_keys(db, "journal_entries")
        assert ENTRY_PARTY not in keys and ENTRY_MEMBER in keys  # the member's key stays
        assert _foreign_keys(db, "consumptions") == set()
        assert not DROPPED & _indexes(db) and "ix_consumptions_member" in _indexes(db)
        upgrade(empty_url, "heads")
        db.engine.dispose()
        with db.engine.connect() as conn:
            assert drift(conn) == []

        downgrade(empty_url, BEFORE)
        db.engine.dispose()  # SQLite: a pooled connection may still see the tables as they were
        assert ENTRY_PARTY in _foreign_keys(db, "journal_entries")
        assert _foreign_keys(db, "consumptions") == {CONSUMPTION_ENTRY, CONSUMPTION_LOT}
        assert DROPPED <= _indexes(db)
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()
