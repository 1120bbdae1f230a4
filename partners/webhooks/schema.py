"""Tables for partner webhooks: endpoints, the events (the outbox), and one delivery per event
and endpoint (plus one per replay).

An event's body is stored exactly as it is sent, so every attempt and every replay carries the
same bytes under the same `webhook-id`. Keys are stored because the hub signs with them: an
HMAC secret (the partner has it too) or an Ed25519 private key (the partner has only its public
half). They are sealed with a key derived from POINTSNET_SECRET_KEY (signing.seal), never
logged, and an HMAC secret is answered only by creation and rotation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from network.db.schema import BigId, Timestamp, metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", String(400), nullable=False),  # space-separated event types
    Column("signing", String(8), nullable=False),  # hmac | ed25519
    # HMAC: the secret's bytes; Ed25519: the 32-byte private key (seed); sealed (signing.seal).
    Column("secret", LargeBinary, nullable=False),
    Column("public_key", String(60)),  # Ed25519: `whpk_…`, what the partner verifies with
    # The key before the last rotation (sealed): deliveries carry its signature too until then.
    Column("previous_secret", LargeBinary),
    Column("previous_until", Timestamp),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(200)),
    # Since when every attempt has failed (NULL after a success): the disabling rule reads it.
    Column("failing_since", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("deleted_at", Timestamp),  # deleted endpoints keep their delivery history
    CheckConstraint("signing IN ('hmac', 'ed25519')", name="signing"),
)
Index("ix_webhook_endpoints_partner_id", webhook_endpoints.c.partner_id)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("msg_id", String(40), nullable=False, unique=True),  # the `webhook-id` header
    Column("type", String(40), nullable=False),
    Column("body", Text, nullable=False),  # the JSON sent, byte for byte
    Column("created_at", Timestamp, nullable=False),
)
Index("ix_webhook_events_partner_id", webhook_events.c.partner_id, webhook_events.c.id)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", BigId, ForeignKey("webhook_events.id"), nullable=False),
    Column("endpoint_id", BigId, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("replay_of", BigId, ForeignKey("webhook_deliveries.id")),
    # pending -> delivered | failed (attempts used up) | cancelled (endpoint disabled or deleted)
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=False),  # also the drainer's lease
    Column("last_attempt_at", Timestamp),
    Column("last_status", Integer),  # the endpoint's HTTP status, NULL when none came back
    Column("last_error", String(300)),
    Column("delivered_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("status IN ('pending', 'delivered', 'failed', 'cancelled')",
                    name="status"),
)
Index("ix_webhook_deliveries_status", webhook_deliveries.c.status,
      webhook_deliveries.c.next_attempt_at)
Index("ix_webhook_deliveries_endpoint_id", webhook_deliveries.c.endpoint_id,
      webhook_deliveries.c.id)
Index("ix_webhook_deliveries_event_id", webhook_deliveries.c.event_id)
