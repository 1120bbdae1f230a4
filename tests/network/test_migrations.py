"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from infra.migrate import drift


def test_migrated_database_matches_the_code(db):
    with db.engine.connect() as conn:
        diff = drift(conn)
    assert diff == [], f"write an Alembic revision for: {diff}"
