"""The worker's tables: a lease per job (who runs it now, the last slot done) and the run history.

Revision ID: 0009_job_runs
Revises: 0008_segments
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_job_runs"
down_revision = "0008_segments"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("last_slot", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", Timestamp, nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.CheckConstraint("outcome IN ('running', 'ok', 'failed', 'interrupted')",
                           name=op.f("ck_job_runs_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index(op.f("ix_job_runs_job_started"), "job_runs", ["job", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_job_runs_job_started", table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_table("job_leases")
