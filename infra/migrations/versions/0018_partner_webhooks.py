"""Partner webhooks: endpoints, events (the outbox written with the ledger write) and deliveries
(partners/webhooks/schema.py).

Revision ID: 0018_partner_webhooks
Revises: 0017_message_preferences
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_partner_webhooks"
down_revision = "0017_message_preferences"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.String(400), nullable=False),
        sa.Column("signing", sa.String(8), nullable=False),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("public_key", sa.String(60)),
        sa.Column("previous_secret", sa.LargeBinary),
        sa.Column("previous_until", Timestamp),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.String(200)),
        sa.Column("failing_since", Timestamp),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp),
        sa.CheckConstraint("signing IN ('hmac', 'ed25519')", name="ck_webhook_endpoints_signing"),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_webhook_endpoints_partner_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_index("ix_webhook_endpoints_partner_id", "webhook_endpoints", ["partner_id"])
    op.create_table(
        "webhook_events",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("msg_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["parties.id"],
                                name="fk_webhook_events_partner_id_parties"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("msg_id", name="uq_webhook_events_msg_id"),
    )
    op.create_index("ix_webhook_events_partner_id", "webhook_events", ["partner_id", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("endpoint_id", BigId, nullable=False),
        sa.Column("replay_of", BigId),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=False),
        sa.Column("last_attempt_at", Timestamp),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.String(300)),
        sa.Column("delivered_at", Timestamp),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'cancelled')",
                           name="ck_webhook_deliveries_status"),
        sa.ForeignKeyConstraint(["event_id"], ["webhook_events.id"],
                                name="fk_webhook_deliveries_event_id_webhook_events"),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"],
                                name="fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        sa.ForeignKeyConstraint(["replay_of"], ["webhook_deliveries.id"],
                                name="fk_webhook_deliveries_replay_of_webhook_deliveries"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_status", "webhook_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_endpoint_id", "webhook_deliveries",
                    ["endpoint_id", "id"])
    op.create_index("ix_webhook_deliveries_event_id", "webhook_deliveries", ["event_id"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_endpoints")
