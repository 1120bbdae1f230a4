"""Campaigns, the points each booked effect gave (campaign_awards), and the programme's version
counter.

Revision ID: 0012_campaigns
Revises: 0011_member_profile
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_campaigns"
down_revision = "0011_member_profile"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("budget_points", sa.BigInteger()),
        sa.Column("spent_points", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("owner_party_id", BigId, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'active', 'paused', 'ended')",
                           name="ck_campaigns_status"),
        sa.CheckConstraint("spent_points >= 0", name="ck_campaigns_spent_nonnegative"),
        sa.CheckConstraint("budget_points IS NULL OR spent_points <= budget_points",
                           name="ck_campaigns_spent_within_budget"),
        sa.ForeignKeyConstraint(["owner_party_id"], ["parties.id"],
                                name="fk_campaigns_owner_party_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("code", name="uq_campaigns_code"),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    op.create_table(
        "campaign_awards",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("campaign_id", BigId),
        sa.Column("tier_code", sa.String(32)),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("funder_party_id", BigId, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("booked_at", Timestamp, nullable=False),
        sa.CheckConstraint("(campaign_id IS NULL) = (tier_code IS NOT NULL)",
                           name="ck_campaign_awards_one_source"),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"],
                                name="fk_campaign_awards_entry_id_journal_entries"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_campaign_awards_campaign_id_campaigns"),
        sa.ForeignKeyConstraint(["funder_party_id"], ["parties.id"],
                                name="fk_campaign_awards_funder_party_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_awards"),
    )
    op.create_index("ix_campaign_awards_usage", "campaign_awards",
                    ["campaign_id", "member_id", "booked_at"])
    op.create_index("ix_campaign_awards_entry", "campaign_awards", ["entry_id"])
    op.create_index("ix_campaign_awards_member", "campaign_awards", ["member_id", "entry_id"])
    op.create_table(
        "programme_version",
        sa.Column("id", sa.Integer(), autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_programme_version"),
    )


def downgrade() -> None:
    op.drop_table("programme_version")
    op.drop_index("ix_campaign_awards_member", table_name="campaign_awards")
    op.drop_index("ix_campaign_awards_entry", table_name="campaign_awards")
    op.drop_index("ix_campaign_awards_usage", table_name="campaign_awards")
    op.drop_table("campaign_awards")
    op.drop_index("ix_campaigns_status", table_name="campaigns")
    op.drop_table("campaigns")
