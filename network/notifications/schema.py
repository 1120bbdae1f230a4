"""The notification outbox table, on the one shared metadata."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from network.db.schema import BigId, Timestamp, metadata

# Status moves pending -> sent, or pending -> failed after too many attempts, or pending ->
# dropped when the member's preferences no longer allow it at sending time. Recipient and body
# are wiped once sent: the body of a sign-in message is a secret, and an address is personal data
# that the members table already keeps (encrypted).
notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("member_id", BigId, nullable=True),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(320), nullable=True),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=True),
    Column("status", String(8), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("sent_at", Timestamp, nullable=True),
    Column("last_error", String(500), nullable=True),
    # The message kind (network/notifications/preferences.KINDS); NULL on rows written before
    # kinds existed, which were all transactional. The drainer asks may_send again for it.
    Column("kind", String(24), nullable=True),
    Column("html_body", Text, nullable=True),  # email only; wiped with the body once sent
    Column("unsubscribe_url", String(500), nullable=True),  # email of a kind one may leave
)
Index("ix_notification_outbox_due", notification_outbox.c.status,
      notification_outbox.c.next_attempt_at)
Index("ix_notification_outbox_member", notification_outbox.c.member_id,
      notification_outbox.c.created_at)
