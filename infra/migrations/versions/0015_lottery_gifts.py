"""Lottery draws (prizes, entries, winners) and gifts between members (with senders blocked).

network/programme/lottery_schema.py and network/wallet/gifts_schema.py say what each column is.

Revision ID: 0015_lottery_gifts
Revises: 0013_campaign_approvals
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_lottery_gifts"
down_revision = "0013_campaign_approvals"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lottery_draws",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("name_fa", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opens_at", Timestamp, nullable=False),
        sa.Column("closes_at", Timestamp, nullable=False),
        sa.Column("entry_price", sa.BigInteger(), nullable=False),
        sa.Column("max_entries_per_member", sa.Integer(), nullable=False),
        sa.Column("sponsor_party_id", BigId, nullable=False),
        sa.Column("seed", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("entries_sha256", sa.String(64)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("closed_at", Timestamp),
        sa.Column("drawn_at", Timestamp),
        sa.CheckConstraint("status IN ('open', 'closed', 'drawn')",
                           name="ck_lottery_draws_status"),
        sa.CheckConstraint("entry_price >= 0", name="ck_lottery_draws_price_nonnegative"),
        sa.CheckConstraint("max_entries_per_member >= 1", name="ck_lottery_draws_limit_positive"),
        sa.CheckConstraint("closes_at > opens_at", name="ck_lottery_draws_window"),
        sa.ForeignKeyConstraint(["sponsor_party_id"], ["parties.id"],
                                name="fk_lottery_draws_sponsor_party_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_draws"),
        sa.UniqueConstraint("code", name="uq_lottery_draws_code"),
    )
    op.create_table(
        "lottery_prizes",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("draw_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("label_en", sa.String(200), nullable=False),
        sa.Column("label_fa", sa.String(200), nullable=False),
        sa.Column("prize_reward_id", sa.BigInteger()),
        sa.CheckConstraint("count >= 1", name="ck_lottery_prizes_count_positive"),
        sa.ForeignKeyConstraint(["draw_id"], ["lottery_draws.id"],
                                name="fk_lottery_prizes_draw_id_lottery_draws"),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_prizes"),
        sa.UniqueConstraint("draw_id", "position", name="uq_lottery_prizes_draw_id_position"),
    )
    op.create_table(
        "lottery_entries",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("draw_id", BigId, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("journal_entry_id", BigId),
        sa.Column("granted_by", sa.String(200)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("won_position", sa.Integer()),
        sa.CheckConstraint("source IN ('points', 'free')", name="ck_lottery_entries_source"),
        sa.ForeignKeyConstraint(["draw_id"], ["lottery_draws.id"],
                                name="fk_lottery_entries_draw_id_lottery_draws"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_lottery_entries_member_id_members"),
        sa.ForeignKeyConstraint(["journal_entry_id"], ["journal_entries.id"],
                                name="fk_lottery_entries_journal_entry_id_journal_entries"),
        sa.PrimaryKeyConstraint("id", name="pk_lottery_entries"),
        sa.UniqueConstraint("entry_hash", name="uq_lottery_entries_entry_hash"),
    )
    op.create_index("ix_lottery_entries_member", "lottery_entries", ["member_id", "draw_id"])
    op.create_index("ix_lottery_entries_draw", "lottery_entries", ["draw_id"])
    op.create_table(
        "gifts",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("sender_member_id", BigId, nullable=False),
        sa.Column("receiver_member_id", BigId, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hold_id", BigId),
        sa.Column("out_entry_id", BigId),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("decided_at", Timestamp),
        sa.CheckConstraint("status IN ('sent', 'pending', 'accepted', 'declined')",
                           name="ck_gifts_status"),
        sa.CheckConstraint("points > 0", name="ck_gifts_points_positive"),
        sa.ForeignKeyConstraint(["sender_member_id"], ["members.id"],
                                name="fk_gifts_sender_member_id_members"),
        sa.ForeignKeyConstraint(["receiver_member_id"], ["members.id"],
                                name="fk_gifts_receiver_member_id_members"),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"], name="fk_gifts_hold_id_holds"),
        sa.ForeignKeyConstraint(["out_entry_id"], ["journal_entries.id"],
                                name="fk_gifts_out_entry_id_journal_entries"),
        sa.PrimaryKeyConstraint("id", name="pk_gifts"),
    )
    op.create_index("ix_gifts_sender", "gifts", ["sender_member_id", "created_at"])
    op.create_index("ix_gifts_receiver", "gifts", ["receiver_member_id", "status"])
    op.create_table(
        "gift_blocks",
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("blocked_member_id", BigId, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_gift_blocks_member_id_members"),
        sa.ForeignKeyConstraint(["blocked_member_id"], ["members.id"],
                                name="fk_gift_blocks_blocked_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", "blocked_member_id", name="pk_gift_blocks"),
    )


def downgrade() -> None:
    op.drop_table("gift_blocks")
    op.drop_index("ix_gifts_receiver", table_name="gifts")
    op.drop_index("ix_gifts_sender", table_name="gifts")
    op.drop_table("gifts")
    op.drop_index("ix_lottery_entries_draw", table_name="lottery_entries")
    op.drop_index("ix_lottery_entries_member", table_name="lottery_entries")
    op.drop_table("lottery_entries")
    op.drop_table("lottery_prizes")
    op.drop_table("lottery_draws")
