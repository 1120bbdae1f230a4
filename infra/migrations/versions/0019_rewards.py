"""The catalog: rewards, their code pools, and the rewards members bought
(network/programme/rewards_schema.py).

Revision ID: 0019_rewards
Revises: 0018_partner_webhooks
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_rewards"
down_revision = "0018_partner_webhooks"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rewards",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("name_fa", sa.String(120), nullable=False),
        sa.Column("description_en", sa.String(2000), nullable=False),
        sa.Column("description_fa", sa.String(2000), nullable=False),
        sa.Column("image_url", sa.String(500)),
        sa.Column("image_type", sa.String(16)),
        sa.Column("image_data", sa.LargeBinary()),
        sa.Column("price_points", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer()),
        sa.Column("valid_from", Timestamp),
        sa.Column("valid_until", Timestamp),
        sa.Column("coupon_days", sa.Integer()),
        sa.Column("per_member_limit", sa.Integer()),
        sa.Column("visibility", sa.JSON(), nullable=False),
        sa.Column("code_source", sa.String(16), nullable=False),
        sa.Column("refund_on_expiry", sa.Boolean(), nullable=False),
        sa.Column("charity_id", BigId),
        sa.Column("value_minor", BigId),
        sa.Column("currency", sa.String(3)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('coupon', 'gift_card', 'lottery_entry', 'charity_pledge')",
                           name="ck_rewards_kind"),
        sa.CheckConstraint("status IN ('draft', 'active', 'paused', 'retired')",
                           name="ck_rewards_status"),
        sa.CheckConstraint("code_source IN ('pool', 'generated', 'none')",
                           name="ck_rewards_code_source"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="ck_rewards_stock"),
        sa.CheckConstraint("price_points > 0", name="ck_rewards_price"),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_rewards_partner_id_parties"),
        sa.ForeignKeyConstraint(["charity_id"], ["parties.id"],
                                name="fk_rewards_charity_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_rewards"),
    )
    op.create_index("ix_rewards_partner", "rewards", ["partner_id", "id"])
    op.create_table(
        "reward_codes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("reward_id", BigId, nullable=False),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("purchase_id", BigId),
        sa.Column("added_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"],
                                name="fk_reward_codes_reward_id_rewards"),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_reward_codes_partner_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_reward_codes"),
    )
    op.create_index("uq_reward_codes_partner_code", "reward_codes", ["partner_id", "code"],
                    unique=True)
    op.create_index("ix_reward_codes_code", "reward_codes", ["code"])
    op.create_index("ix_reward_codes_free", "reward_codes", ["reward_id", "purchase_id", "id"])
    op.create_table(
        "reward_purchases",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("reward_id", BigId, nullable=False),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("code_id", BigId),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bought_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp),
        sa.Column("used_at", Timestamp),
        sa.Column("closed_entry_id", BigId),
        sa.CheckConstraint("status IN ('issued', 'used', 'expired', 'refunded')",
                           name="ck_reward_purchases_status"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_reward_purchases_member_id_members"),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"],
                                name="fk_reward_purchases_reward_id_rewards"),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_reward_purchases_partner_id_parties"),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"],
                                name="fk_reward_purchases_entry_id_journal_entries"),
        sa.ForeignKeyConstraint(["code_id"], ["reward_codes.id"],
                                name="fk_reward_purchases_code_id_reward_codes"),
        sa.ForeignKeyConstraint(["closed_entry_id"], ["journal_entries.id"],
                                name="fk_reward_purchases_closed_entry_id_journal_entries"),
        sa.PrimaryKeyConstraint("id", name="pk_reward_purchases"),
        sa.UniqueConstraint("entry_id", name="uq_reward_purchases_entry_id"),
    )
    op.create_index("ix_reward_purchases_code", "reward_purchases", ["code_id"])
    op.create_index("ix_reward_purchases_member", "reward_purchases", ["member_id", "reward_id"])
    op.create_index("ix_reward_purchases_due", "reward_purchases", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("reward_purchases")
    op.drop_table("reward_codes")
    op.drop_table("rewards")
