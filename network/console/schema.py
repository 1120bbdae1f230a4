"""The console's own table: goodwill adjustments waiting for (or past) a second operator.

A goodwill adjustment at or under the threshold books at once; above it, it waits here as
`pending` until another operator approves (it then books, through the ledger, and keeps the
journal entry's id) or rejects it. The requester can never decide their own request, which a
CHECK makes true of the data and not only of the page.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from network.db.schema import BigId, Timestamp, metadata

goodwill_requests = Table(
    "goodwill_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # pending | booked | rejected
    Column("requested_by", BigId, ForeignKey("backoffice_accounts.id"), nullable=False),
    Column("requested_at", Timestamp, nullable=False),
    Column("decided_by", BigId, ForeignKey("backoffice_accounts.id")),
    Column("decided_at", Timestamp),
    Column("entry_id", BigId),  # the journal entry that booked it
    # The form's one-time key: posting the same form twice makes one request.
    Column("idempotency_key", String(64), nullable=False),
    UniqueConstraint("requested_by", "idempotency_key"),
    CheckConstraint("points > 0", name="goodwill_points_positive"),
    CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
)
Index("ix_goodwill_requests_status", goodwill_requests.c.status, goodwill_requests.c.id)
Index("ix_goodwill_requests_member", goodwill_requests.c.member_id)
