"""0035_reward_buy_function on both databases, and back: PostgreSQL gets `reward_buy` (the
one-call purchase, network/programme/pg_buy.py) and loses it on downgrade, keeping
`ledger_debit`; SQLite, which keeps the Python purchase, gets nothing; the tables stay as the
code declares them either way."""

from __future__ import annotations

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from tests.network.test_migration_debit_function import _functions
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0034_debit_function"


def test_the_purchase_function_comes_and_goes(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        postgresql = db.dialect == "postgresql"
        assert _functions(db) == ({"ledger_debit"} if postgresql else set())
        upgrade(empty_url, "heads")
        assert _functions(db) == ({"ledger_debit", "reward_buy"} if postgresql else set())
        with db.engine.connect() as conn:
            assert drift(conn) == []

        downgrade(empty_url, BEFORE)
        db.engine.dispose()
        assert _functions(db) == ({"ledger_debit"} if postgresql else set())
        upgrade(empty_url, "heads")
        assert _functions(db) == ({"ledger_debit", "reward_buy"} if postgresql else set())
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()
