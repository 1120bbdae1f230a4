"""Member wallet: sign-in codes, member sessions, rate-limit counters, notification outbox.

Revision ID: 0005_wallet
Revises: 0001_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_wallet"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("member_id", BigId, nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=False),
        sa.Column("sent_at", Timestamp, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
    )
    op.create_index("ix_notification_outbox_due", "notification_outbox",
                    ["status", "next_attempt_at"])
    op.create_index("ix_notification_outbox_member", "notification_outbox",
                    ["member_id", "created_at"])
    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.String(length=100), nullable=False),
        sa.Column("window_start", Timestamp, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", name="pk_rate_limit_counters"),
    )
    op.create_table(
        "member_sessions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_member_sessions_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_sessions_token_hash")),
    )
    op.create_index("ix_member_sessions_member", "member_sessions", ["member_id", "created_at"])
    op.create_table(
        "signin_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("closed_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name=op.f("fk_signin_codes_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_codes")),
    )
    op.create_index("ix_signin_codes_member", "signin_codes", ["member_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_signin_codes_member", table_name="signin_codes")
    op.drop_table("signin_codes")
    op.drop_index("ix_member_sessions_member", table_name="member_sessions")
    op.drop_table("member_sessions")
    op.drop_table("rate_limit_counters")
    op.drop_index("ix_notification_outbox_member", table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_due", table_name="notification_outbox")
    op.drop_table("notification_outbox")
