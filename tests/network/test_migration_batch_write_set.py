"""0030_batch_write_set on both databases, and back: the keys and index entries an earn no longer
pays for are gone, and what guards each invariant instead still refuses the fault."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from tests.network import wallet_world as ww
from tests.network.test_migration_member_keys import _entry, _member, _posting
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0024_member_keys"
LAST_WITH_LOT_KEYS = "0034_debit_function"
POSTINGS_ENTRY = ("entry_id", "member_id", "journal_entries")
LOTS_ENTRY = ("entry_id", "member_id", "journal_entries")
LOTS_ISSUER = ("issuer_party_id", "parties")
LOTS_MEMBER = ("member_id", "members")


def _foreign_keys(db: Database, table: str) -> set[tuple[str, ...]]:
    """(its columns..., the parent) for each foreign key of `table` (read from the catalogue:
    SQLAlchemy's reflection misses SQLite's composite keys)."""
    def read(conn: sa.Connection) -> set[tuple[str, ...]]:
        if conn.dialect.name == "sqlite":
            keys: dict[int, list[str]] = {}
            parents = {}
            for row in conn.execute(sa.text(f"PRAGMA foreign_key_list({table})")):
                keys.setdefault(row[0], []).append(row[3])
                parents[row[0]] = row[2]
            return {(*columns, parents[key]) for key, columns in keys.items()}
        return {(*row[0], row[1]) for row in conn.execute(sa.text(
            "SELECT array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i) "
            "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i), "
            "k.confrelid::regclass::text FROM pg_constraint k "
            "WHERE k.conrelid = CAST(:t AS regclass) AND k.contype = 'f'"), {"t": table})}
    return db.read(read)


def _partial(db: Database, index: str) -> bool:
    def read(conn: sa.Connection) -> bool:
        if conn.dialect.name == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"
        else:
            sql = "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
        return " WHERE " in conn.execute(sa.text(sql), {"n": index}).scalar_one().upper()
    return db.read(read)


def _fillfactor(db: Database) -> list[str] | None:
    return db.read(lambda c: c.execute(sa.text(
        "SELECT reloptions FROM pg_class WHERE relname = 'member_balances'")).scalar_one())


def _lot(conn: sa.Connection, entry_id: int, member_id: int) -> None:
    conn.execute(sa.text(
        "INSERT INTO lots (member_id, entry_id, issuer_party_id, points, remaining, vests_at, "
        "created_at) VALUES (:m, :e, (SELECT min(id) FROM parties), 100, 100, :t, :t)"),
        {"m": member_id, "e": entry_id, "t": ww.T0})


def test_the_write_set_shrinks_and_comes_back(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        sara = db.write(lambda c: _member(c, "1001"))
        entry = db.write(lambda c: _entry(c, sara))
        db.write(lambda c: _posting(c, entry, sara))
        assert _foreign_keys(db, "postings") == {POSTINGS_ENTRY}
        # the lots' keys go too in 0037 (test_migration_earn_keys.py): what 0030 left is
        # checked before it
        upgrade(empty_url, LAST_WITH_LOT_KEYS)
        db.engine.dispose()
        assert _foreign_keys(db, "postings") == set()
        assert _foreign_keys(db, "lots") == {LOTS_ENTRY, LOTS_ISSUER}
        assert _partial(db, "ix_journal_entries_reverses") and _partial(db, "ix_postings_party")
        if db.dialect == "postgresql":
            assert _fillfactor(db) == ["fillfactor=70"]
        # a lot of a member that does not exist: the lot's key to its entry still refuses it
        # (the entry, whose own key needs the member, names another member)
        db.write(lambda c: c.execute(sa.text(
            "INSERT INTO parties (kind, code, name, created_at) "
            "VALUES ('partner', 'p', 'P', :t)"), {"t": ww.T0}))
        with pytest.raises(sa.exc.IntegrityError):
            db.write(lambda c: _lot(c, entry, sara + 1000))
        db.write(lambda c: _lot(c, entry, sara))  # the entry's own member: fine
        upgrade(empty_url, "heads")
        db.engine.dispose()
        with db.engine.connect() as conn:
            assert drift(conn) == []

        downgrade(empty_url, BEFORE)
        db.engine.dispose()  # SQLite: a pooled connection may still see the tables as they were
        assert _foreign_keys(db, "postings") == {POSTINGS_ENTRY}
        assert _foreign_keys(db, "lots") == {LOTS_ENTRY, LOTS_ISSUER, LOTS_MEMBER}
        assert not _partial(db, "ix_journal_entries_reverses")
        assert not _partial(db, "ix_postings_party")
        if db.dialect == "postgresql":
            assert _fillfactor(db) is None
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()


def test_the_code_s_tables_made_directly_leave_room_in_balances(empty_url):  # noqa: F811
    """metadata.create_all gives member_balances the migration's fillfactor (PostgreSQL)."""
    from infra.tables import metadata

    db = Database(empty_url)
    try:
        metadata.create_all(db.engine)
        if db.dialect == "postgresql":
            assert _fillfactor(db) == ["fillfactor=70"]
        assert _partial(db, "ix_postings_party")
    finally:
        db.dispose()
