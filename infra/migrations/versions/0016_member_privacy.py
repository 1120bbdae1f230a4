"""Members' own side: self-enrolment (join codes), profiles, privacy rights and the audit log.

- signin_codes.purpose: signin | join (a join code is sent to a stranger's address too), and
  message_id: a join code's message, given to the member it enrols;
- member_profiles: city, interests, when the profile was first complete, when it was erased;
- audit_log: the append-only trail of who did what to whom (network/audit.py).

Revision ID: 0016_member_privacy
Revises: 0015_lottery_gifts
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_member_privacy"
down_revision = "0015_lottery_gifts"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("signin_codes") as batch:
        batch.add_column(sa.Column("purpose", sa.String(8), nullable=False,
                                   server_default="signin"))
        batch.add_column(sa.Column("message_id", BigId, nullable=True))
    op.create_table(
        "member_profiles",
        sa.Column("member_id", BigId, autoincrement=False),
        sa.Column("city", sa.String(100)),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("completed_at", Timestamp),
        sa.Column("erased_at", Timestamp),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_member_profiles_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_profiles"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        sa.Column("request_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("member_profiles")
    with op.batch_alter_table("signin_codes") as batch:
        batch.drop_column("message_id")
        batch.drop_column("purpose")
