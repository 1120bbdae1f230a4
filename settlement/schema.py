"""Settlement's tables, on the one shared `metadata`.

A run is one period (unique): a draft is recomputed in place by preview; close freezes it and
from then on nothing in its rows changes except payment progress. The aggregated inputs
(`settlement_totals`) are stored with the run so its content hash can be re-derived later.
Payments are written in phases (pending -> submitted -> succeeded | failed) so a crash between
"we decided to pay" and "Stripe answered" is visible and resumable with the same idempotency key.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from network.db.schema import BigId, Price, Timestamp, metadata

settlement_runs = Table(
    "settlement_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("period", String(7), nullable=False, unique=True),  # YYYY-MM
    Column("status", String(12), nullable=False),  # draft | closed | paying | paid
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("period_start", Timestamp, nullable=False),
    Column("period_end", Timestamp, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("inputs", JSON, nullable=False),  # segments and contract versions used
    Column("summary", JSON, nullable=False),  # netting figures and control totals
    Column("computed_at", Timestamp, nullable=False),
    Column("closed_at", Timestamp),
    Column("paid_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("status IN ('draft', 'closed', 'paying', 'paid')", name="status"),
)

settlement_totals = Table(
    "settlement_totals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("settlement_runs.id", ondelete="CASCADE"), nullable=False),
    Column("issuer_party_id", BigId, nullable=False),
    Column("sink_party_id", BigId),
    Column("kind", String(16), nullable=False),
    Column("reversal", Boolean, nullable=False),
    Column("segment", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
)
Index("ix_settlement_totals_run", settlement_totals.c.run_id)

settlement_lines = Table(
    "settlement_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("settlement_runs.id", ondelete="CASCADE"), nullable=False),
    Column("payer_party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("payee_party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("kind", String(12), nullable=False),  # redemption|donation|expiry|fee|adjustment
    Column("source_kind", String(16), nullable=False),
    Column("segment", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("unit_price", Price, nullable=False),  # minor units per point; bps for value fees
    Column("basis", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
)
Index("ix_settlement_lines_run", settlement_lines.c.run_id)

settlement_positions = Table(
    "settlement_positions",
    metadata,
    Column("run_id", BigId, ForeignKey("settlement_runs.id", ondelete="CASCADE"),
           primary_key=True),
    Column("party_id", BigId, ForeignKey("parties.id"), primary_key=True),
    Column("receivable_minor", BigInteger, nullable=False),
    Column("payable_minor", BigInteger, nullable=False),
    Column("net_minor", BigInteger, nullable=False),
)

settlement_payments = Table(
    "settlement_payments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("settlement_runs.id"), nullable=False),
    Column("party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("method", String(16), nullable=False),  # transfer | invoice | payment_intent
    Column("amount_minor", BigInteger, nullable=False),  # always > 0; direction is the method
    Column("currency", String(3), nullable=False),
    # pending: decided, Stripe not yet known to have it; submitted: Stripe has it, money not
    # yet final (open invoice); succeeded | failed.
    Column("status", String(12), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("idempotency_key", String(120), nullable=False),
    Column("stripe_object_id", String(64)),
    Column("stripe_status", String(32)),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("run_id", "party_id"),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("status IN ('pending', 'submitted', 'succeeded', 'failed')", name="status"),
)
Index("ix_settlement_payments_stripe", settlement_payments.c.stripe_object_id)

stripe_webhook_events = Table(
    "stripe_webhook_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("object_id", String(64)),
    Column("payment_id", BigId),
    Column("received_at", Timestamp, nullable=False),
)
