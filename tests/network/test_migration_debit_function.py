"""0034_debit_function on both databases, and back: PostgreSQL gets `ledger_debit` (the one-call
debit, network/ledger/pg_debit.py) and loses it on downgrade; SQLite, which keeps the Python
debit, gets nothing; the tables stay as the code declares them either way."""

from __future__ import annotations

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0033_budget_slots"


def _functions(db: Database) -> set[str]:
    if db.dialect != "postgresql":
        return set()
    return set(db.read(lambda c: c.exec_driver_sql(
        "SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
        " WHERE n.nspname = current_schema()").scalars()))


def test_the_debit_function_comes_and_goes(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        assert "ledger_debit" not in _functions(db)
        upgrade(empty_url, "heads")
        # reward_buy (0035) calls it: there with it at the head, gone below 0034 too
        expected = {"ledger_debit", "reward_buy"} if db.dialect == "postgresql" else set()
        assert _functions(db) == expected
        with db.engine.connect() as conn:
            assert drift(conn) == []

        downgrade(empty_url, BEFORE)
        db.engine.dispose()
        assert "ledger_debit" not in _functions(db)
        upgrade(empty_url, "heads")
        assert _functions(db) == expected
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()
