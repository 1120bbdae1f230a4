"""Stored tiers: each member's held tier with its retention end, and the history of changes
(network/programme/tiers_schema.py); and campaign awards by funder, for a partner's BONUS
transactions (partners/ledger_view.py).

Revision ID: 0022_member_tiers
Revises: 0021_backoffice_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_member_tiers"
down_revision = "0021_backoffice_accounts"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "member_tiers",
        sa.Column("member_id", BigId, autoincrement=False),
        sa.Column("tier", sa.String(40), nullable=False),
        sa.Column("since", Timestamp, nullable=False),
        sa.Column("qualified_until", sa.Date()),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.Column("calculated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_member_tiers_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_tiers"),
    )
    op.create_table(
        "tier_changes",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("from_tier", sa.String(40), nullable=False),
        sa.Column("to_tier", sa.String(40), nullable=False),
        sa.Column("changed_at", Timestamp, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.Column("partner_id", BigId),
        sa.CheckConstraint("reason IN ('earn', 'recalc')", name="ck_tier_changes_reason_known"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_tier_changes_member_id_members"),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_tier_changes_partner_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_tier_changes"),
    )
    op.create_index("ix_tier_changes_member", "tier_changes", ["member_id", "changed_at"])
    op.create_index("ix_campaign_awards_funder", "campaign_awards",
                    ["funder_party_id", "entry_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_awards_funder", table_name="campaign_awards")
    op.drop_index("ix_tier_changes_member", table_name="tier_changes")
    op.drop_table("tier_changes")
    op.drop_table("member_tiers")
