"""Message preferences and consent, lifecycle occasions, and the outbox's message kind, HTML
body and unsubscribe link (network/notifications/consent_schema.py, schema.py).

Revision ID: 0017_message_preferences
Revises: 0016_member_privacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_message_preferences"
down_revision = "0016_member_privacy"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message_preferences",
        sa.Column("member_id", BigId, autoincrement=False),
        sa.Column("programme_sms", sa.Boolean(), nullable=False),
        sa.Column("programme_email", sa.Boolean(), nullable=False),
        sa.Column("marketing_sms", sa.Boolean(), nullable=False),
        sa.Column("marketing_email", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.Integer()),
        sa.Column("quiet_end", sa.Integer()),
        sa.Column("time_zone", sa.String(64)),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_message_preferences_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", name="pk_message_preferences"),
    )
    op.create_table(
        "message_consents",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("wording_version", sa.String(32)),
        sa.Column("wording", sa.Text()),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_message_consents_member_id_members"),
        sa.PrimaryKeyConstraint("id", name="pk_message_consents"),
    )
    op.create_index("ix_message_consents_member", "message_consents", ["member_id", "id"])
    op.create_table(
        "message_occasions",
        sa.Column("member_id", BigId, autoincrement=False),
        sa.Column("occasion", sa.String(120)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"],
                                name="fk_message_occasions_member_id_members"),
        sa.PrimaryKeyConstraint("member_id", "occasion", name="pk_message_occasions"),
    )
    with op.batch_alter_table("notification_outbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(24), nullable=True))
        batch.add_column(sa.Column("html_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("unsubscribe_url", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_column("unsubscribe_url")
        batch.drop_column("html_body")
        batch.drop_column("kind")
    op.drop_table("message_occasions")
    op.drop_index("ix_message_consents_member", table_name="message_consents")
    op.drop_table("message_consents")
    op.drop_table("message_preferences")
