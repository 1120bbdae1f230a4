"""KPI rollups for the dashboards: daily measures per party, consumption flows issuer x sink,
and the days rolled up (settlement/kpis/schema.py).

Revision ID: 0023_kpi_rollups
Revises: 0022_member_tiers
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_kpi_rollups"
down_revision = "0022_member_tiers"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kpi_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("party_id", BigId, nullable=False, autoincrement=False),
        sa.Column("measure", sa.String(48), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "party_id", "measure", name="pk_kpi_daily"),
    )
    op.create_table(
        "kpi_flows",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("issuer_party_id", BigId, nullable=False, autoincrement=False),
        sa.Column("sink_party_id", BigId, nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "issuer_party_id", "sink_party_id", "kind",
                                name="pk_kpi_flows"),
    )
    op.create_table(
        "kpi_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("refreshed_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_kpi_days"),
    )


def downgrade() -> None:
    op.drop_table("kpi_days")
    op.drop_table("kpi_flows")
    op.drop_table("kpi_daily")
