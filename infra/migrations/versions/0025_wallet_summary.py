"""The wallet's per-member sums (network/ledger/summary.py): earned and spent per (member, party)
and earned per (member, UTC day), backfilled from the journal.

Revision ID: 0025_wallet_summary
Revises: 0023_kpi_rollups
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_wallet_summary"
down_revision = "0024_member_keys"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The kinds' signs as network/ledger/summary.py has them today (a migration keeps its own copy:
# the module may change later, this backfill must not).
_EARNED = ("CASE kind WHEN 'earn' THEN points WHEN 'bonus' THEN points "
           "WHEN 'reverse_earn' THEN -points ELSE 0 END")
_SPENT = ("CASE kind WHEN 'redeem' THEN points WHEN 'reward' THEN points "
          "WHEN 'capture' THEN points WHEN 'reverse_redemption' THEN -points "
          "WHEN 'donate' THEN points WHEN 'lottery' THEN points ELSE 0 END")


def upgrade() -> None:
    op.create_table(
        "wallet_summary",
        sa.Column("member_id", BigId, nullable=False, autoincrement=False),
        sa.Column("party_id", BigId, nullable=False, autoincrement=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "party_id", name="pk_wallet_summary"),
    )
    op.create_table(
        "wallet_earned_days",
        sa.Column("member_id", BigId, nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "day", name="pk_wallet_earned_days"),
    )
    day = ("CAST(timezone('UTC', booked_at) AS date)"
           if op.get_bind().dialect.name == "postgresql" else "date(booked_at)")
    op.execute(f"""
        INSERT INTO wallet_summary (member_id, party_id, earned, spent)
        SELECT member_id, party_id, SUM({_EARNED}), SUM({_SPENT}) FROM journal_entries
        WHERE party_id IS NOT NULL AND ({_EARNED} <> 0 OR {_SPENT} <> 0)
        GROUP BY member_id, party_id""")
    op.execute(f"""
        INSERT INTO wallet_earned_days (member_id, day, earned)
        SELECT member_id, {day}, SUM({_EARNED}) FROM journal_entries
        WHERE {_EARNED} <> 0 GROUP BY member_id, {day}""")


def downgrade() -> None:
    op.drop_table("wallet_earned_days")
    op.drop_table("wallet_summary")
