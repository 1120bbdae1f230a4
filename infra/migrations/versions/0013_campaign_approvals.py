"""Campaign approvals: the network's decision on a partner's campaign that funds other parties'
points or applies to other partners' sales (network/programme/approval.py).

Revision ID: 0013_campaign_approvals
Revises: 0012_campaigns
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_campaign_approvals"
down_revision = "0012_campaigns"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_approvals",
        sa.Column("campaign_id", BigId, autoincrement=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("definition_sha256", sa.String(64), nullable=False),
        sa.Column("requested_at", Timestamp, nullable=False),
        sa.Column("decided_at", Timestamp),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("note", sa.String(500)),
        sa.CheckConstraint("state IN ('pending', 'approved', 'rejected')",
                           name="ck_campaign_approvals_state"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_campaign_approvals_campaign_id_campaigns"),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_campaign_approvals"),
    )


def downgrade() -> None:
    op.drop_table("campaign_approvals")
