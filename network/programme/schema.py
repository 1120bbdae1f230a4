"""The programme's tables: registered custom event types and the facts members' events record.

`member_events` holds every non-purchase fact, a partner's custom event (`kind` event) or one
the network raises (`kind` lifecycle: enrolled, birthday, referral_converted...), each written
once: (scope, idempotency_key) is unique, the partner's Idempotency-Key for its events and a key
derived from the fact for the network's own (`birthday:7:2026`).
"""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Table

from network.db.schema import BigId, Timestamp, keyed_by, metadata

event_types = Table(
    "event_types",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # One name for campaigns' triggers, so unique across the network, not per owner.
    Column("code", String(40), nullable=False, unique=True),
    Column("owner_party_id", BigId, ForeignKey("parties.id")),  # NULL: the network's own
    Column("attribute_spec", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

member_events = Table(
    "member_events",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("partner_id", BigId, ForeignKey("parties.id")),  # NULL: nobody but the network
    Column("kind", String(16), nullable=False),  # event | lifecycle
    Column("type", String(40), nullable=False),  # the event type's code or the lifecycle kind
    Column("attributes", JSON, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("recorded_at", Timestamp, nullable=False),
    Column("scope", String(40), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    CheckConstraint("kind IN ('event', 'lifecycle')", name="kind"),
    *keyed_by(),
)
Index("uq_member_events_scope_key", member_events.c.scope, member_events.c.idempotency_key,
      unique=True)
Index("ix_member_events_member", member_events.c.member_id, member_events.c.occurred_at)
Index("ix_member_events_type", member_events.c.type, member_events.c.occurred_at)
