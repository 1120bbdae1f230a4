"""The back office (issue 19): staff and partner-user accounts with their sessions, blocked
members, and goodwill adjustments waiting for a second operator.

Revision ID: 0021_backoffice_accounts
Revises: 0016_member_privacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_backoffice_accounts"
down_revision = "0016_member_privacy"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backoffice_accounts",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("login", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("partner_id", BigId),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("disabled_at", Timestamp),
        sa.CheckConstraint("(kind = 'staff' AND partner_id IS NULL) OR "
                           "(kind = 'partner_user' AND partner_id IS NOT NULL)",
                           name="ck_backoffice_accounts_partner_user_has_partner"),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_backoffice_accounts_partner_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_backoffice_accounts"),
        sa.UniqueConstraint("login", name="uq_backoffice_accounts_login"),
    )
    op.create_table(
        "backoffice_sessions",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp),
        sa.Column("user_agent", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["backoffice_accounts.id"],
                                name="fk_backoffice_sessions_account_id_backoffice_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_backoffice_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_backoffice_sessions_token_hash"),
    )
    op.create_index("ix_backoffice_sessions_account", "backoffice_sessions", ["account_id"])
    op.create_table(
        "member_blocks",
        sa.Column("member_id", BigId, autoincrement=False),
        sa.Column("blocked_at", Timestamp, nullable=False),
        sa.Column("blocked_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_member_blocks_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_blocks"),
    )
    op.create_table(
        "goodwill_requests",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", BigId, nullable=False),
        sa.Column("requested_at", Timestamp, nullable=False),
        sa.Column("decided_by", BigId),
        sa.Column("decided_at", Timestamp),
        sa.Column("entry_id", BigId),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.CheckConstraint("points > 0", name="ck_goodwill_requests_goodwill_points_positive"),
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> requested_by",
                           name="ck_goodwill_requests_four_eyes"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_goodwill_requests_member_id_members"),
        sa.ForeignKeyConstraint(["requested_by"], ["backoffice_accounts.id"],
                                name="fk_goodwill_requests_requested_by_backoffice_accounts"),
        sa.ForeignKeyConstraint(["decided_by"], ["backoffice_accounts.id"],
                                name="fk_goodwill_requests_decided_by_backoffice_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_goodwill_requests"),
        sa.UniqueConstraint("requested_by", "idempotency_key",
                            name="uq_goodwill_requests_requested_by_idempotency_key"),
    )
    op.create_index("ix_goodwill_requests_status", "goodwill_requests", ["status", "id"])
    op.create_index("ix_goodwill_requests_member", "goodwill_requests", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_goodwill_requests_member", table_name="goodwill_requests")
    op.drop_index("ix_goodwill_requests_status", table_name="goodwill_requests")
    op.drop_table("goodwill_requests")
    op.drop_table("member_blocks")
    op.drop_index("ix_backoffice_sessions_account", table_name="backoffice_sessions")
    op.drop_table("backoffice_sessions")
    op.drop_table("backoffice_accounts")
