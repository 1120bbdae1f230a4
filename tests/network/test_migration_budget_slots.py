"""0033_budget_slots on both databases, and back: what a campaign spent moves into its slots, the
slots' caps sum to its budget, and downgrading sums them back into `spent_points`."""

from __future__ import annotations

import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network.db.engine import Database
from network.programme import budgets
from tests.network import wallet_world as ww
from tests.network.test_migration_signin_codes import empty_url  # noqa: F401  (fixture)

BEFORE = "0032_consumption_indexes"


def _campaign(conn: sa.Connection, code: str, budget: int | None, spent: int) -> int:
    party = conn.execute(sa.text(
        "INSERT INTO parties (kind, code, name, created_at) VALUES ('partner', :c, 'P', :t) "
        "RETURNING id"), {"c": code, "t": ww.T0}).scalar_one()
    return conn.execute(sa.text(
        "INSERT INTO campaigns (code, status, definition, budget_points, spent_points, "
        "owner_party_id, created_at, updated_at) VALUES (:c, 'active', '{}', :b, :s, :p, :t, :t) "
        "RETURNING id"), {"c": code, "b": budget, "s": spent, "p": party, "t": ww.T0}).scalar_one()


def _slots(db: Database, campaign_id: int) -> list[tuple[int, int | None]]:
    return [tuple(row) for row in db.read(lambda c: c.execute(sa.text(
        "SELECT spent, cap FROM campaign_budget_slots WHERE campaign_id = :c ORDER BY slot"),
        {"c": campaign_id}).all())]


def test_spent_points_move_into_the_slots_and_come_back(empty_url):  # noqa: F811
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        budgeted = db.write(lambda c: _campaign(c, "budgeted", 1_000, 300))
        open_ended = db.write(lambda c: _campaign(c, "open", None, 42))
        upgrade(empty_url, "heads")
        db.engine.dispose()
        with db.engine.connect() as conn:
            assert drift(conn) == []
        slots = _slots(db, budgeted)
        assert len(slots) == budgets.SLOTS
        assert sum(s for s, _ in slots) == 300 and sum(c for _, c in slots) == 1_000
        assert all(s <= c for s, c in slots)
        assert _slots(db, open_ended) == [(42, None)] + [(0, None)] * (budgets.SLOTS - 1)
        assert db.write(lambda c: budgets.take(c, budgeted, 700, slot=5))  # all that is left
        assert not db.write(lambda c: budgets.take(c, budgeted, 1, slot=5))

        downgrade(empty_url, BEFORE)
        db.engine.dispose()
        spent = dict(db.read(lambda c: c.execute(sa.text(
            "SELECT code, spent_points FROM campaigns")).all()))
        assert spent == {"budgeted": 1_000, "open": 42}
        upgrade(empty_url, "heads")
        with db.engine.connect() as conn:
            assert drift(conn) == []
    finally:
        db.dispose()
