"""0024_member_keys on both databases: member-keyed tables keyed (id, member_id), children
pointing at their parents by (parent id, member id), on a database that already holds a ledger;
and back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from tests.network import wallet_world as ww
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

AFTER = "0024_member_keys"
BEFORE = "0023_kpi_rollups"


def _member(conn: sa.Connection, card: str) -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO members (card_number, locale, created_at, referral_code) "
        "VALUES (:card, 'en', :t, :card) RETURNING id"), {"card": card, "t": ww.T0}).scalar_one())


def _entry(conn: sa.Connection, member_id: int) -> int:
    return int(conn.execute(sa.text(
        "INSERT INTO journal_entries (member_id, kind, points, booked_at) "
        "VALUES (:m, 'earn', 100, :t) RETURNING id"), {"m": member_id, "t": ww.T0}).scalar_one())


def _posting(conn: sa.Connection, entry_id: int, member_id: int) -> None:
    conn.execute(sa.text(
        "INSERT INTO postings (entry_id, account_kind, member_id, points) "
        "VALUES (:e, 'member_wallet', :m, 100)"), {"e": entry_id, "m": member_id})


def _ledger(db: Database) -> tuple[int, int, int]:
    """Two members, an entry of the first's with its posting: what the schema at BEFORE holds."""
    def write(conn: sa.Connection) -> tuple[int, int, int]:
        sara, omid = _member(conn, "1001"), _member(conn, "1002")
        entry = _entry(conn, sara)
        _posting(conn, entry, sara)
        return sara, omid, entry
    return db.write(write)


def _key(db: Database, table: str) -> list[str]:
    return db.read(lambda c: sa.inspect(c).get_pk_constraint(table)["constrained_columns"])


def test_keys_carry_the_member_and_go_both_ways(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        sara, omid, entry = _ledger(db)
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
        # postings' key to the entry goes again in 0030 (the earn's write set): its refusal
        # below is 0024's, checked at 0024
        downgrade(empty_url, AFTER)
        # SQLite keeps (id), its rowid, the only key it generates ids for
        assert _key(db, "postings") == (["id"] if db.dialect == "sqlite" else ["id", "member_id"])
        assert db.read(lambda c: c.execute(sa.text(
            "SELECT count(*) FROM postings WHERE entry_id = :e AND member_id = :m"),
            {"e": entry, "m": sara}).scalar_one()) == 1
        # a posting of Sara's entry that names Omid: the database refuses it now
        with pytest.raises(sa.exc.IntegrityError):
            db.write(lambda c: _posting(c, entry, omid))
        db.write(lambda c: _posting(c, _entry(c, omid), omid))  # Omid's own: fine

        downgrade(empty_url, BEFORE)
        assert _key(db, "postings") == ["id"]
        db.write(lambda c: _posting(c, entry, omid))  # the one-column key lets it by again
        db.write(lambda c: c.execute(sa.text("DELETE FROM postings WHERE member_id = :m "
                                             "AND entry_id = :e"), {"m": omid, "e": entry}))
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
        assert db.read(lambda c: c.execute(sa.text("SELECT count(*) FROM postings"))
                       .scalar_one()) == 2
    finally:
        db.dispose()


def test_a_child_of_another_members_parent_stops_the_migration(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        _sara, omid, entry = _ledger(db)
        db.write(lambda c: _posting(c, entry, omid))
        with pytest.raises((sa.exc.IntegrityError, RuntimeError), match="postings|foreign key"):
            upgrade(empty_url, "heads")
    finally:
        db.dispose()


def test_the_code_s_tables_made_directly_are_the_migrated_ones(empty_url):  # noqa: F811
    """metadata.create_all builds what the migrations build, SQLite's rowid key included, and
    both give ids to new rows."""
    from infra.tables import metadata

    db = Database(empty_url)
    try:
        metadata.create_all(db.engine)
        with db.engine.connect() as conn:
            assert drift(conn) == []
        sara = db.write(lambda c: _member(c, "1001"))
        first, second = db.write(lambda c: (_entry(c, sara), _entry(c, sara)))
        assert second == first + 1
        assert _key(db, "journal_entries") == (["id"] if db.dialect == "sqlite"
                                               else ["id", "member_id"])
    finally:
        db.dispose()
