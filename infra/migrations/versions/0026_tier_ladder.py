"""The tier ladder as data: its versions, newest in force (network/programme/tiers_schema.py),
seeded with the ladder the code carried until now, so nothing changes for an existing network.

Revision ID: 0026_tier_ladder
Revises: 0023_kpi_rollups
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0026_tier_ladder"
down_revision = "0025_wallet_summary"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)

# tiers.DEFINITIONS as it stood, frozen here (ladder.to_document's form): a later change to the
# seed in code must not change what this migration wrote.
SEED = '{"tiers": [{"code": "blue", "earnMultiplier": "1", "metric": "points_earned", "nameEn": "Blue", "nameFa": "آبی", "retentionDays": 0, "threshold": 0}, {"code": "silver", "earnMultiplier": "1.25", "metric": "points_earned", "nameEn": "Silver", "nameFa": "نقره‌ای", "retentionDays": 90, "threshold": 2000}, {"code": "gold", "earnMultiplier": "1.5", "metric": "points_earned", "nameEn": "Gold", "nameFa": "طلایی", "retentionDays": 90, "threshold": 10000}, {"code": "platinum", "earnMultiplier": "2", "metric": "points_earned", "nameEn": "Platinum", "nameFa": "پلاتینی", "retentionDays": 90, "threshold": 50000}], "windowDays": 365}'


def upgrade() -> None:
    ladders = op.create_table(
        "tier_ladders",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tier_ladders"),
    )
    op.bulk_insert(ladders, [{"document": SEED, "created_by": "seed",
                              "created_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("tier_ladders")
