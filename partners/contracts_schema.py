"""The `contracts` table, on the ledger's one `metadata`: partners own their contracts
(`partners/contracts.py` reads and writes them), as they own their keys (`keys_schema.py`).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, Table, UniqueConstraint

from network.db.schema import BigId, Price, Timestamp, metadata

# A partner's terms, versioned: the row in force at time t is the latest effective_from <= t.
contracts = Table(
    "contracts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("effective_from", Timestamp, nullable=False),
    # Earning: points per one major currency unit spent, pending days, lot validity.
    Column("earn_points_per_unit", Price, nullable=False),
    Column("allow_explicit_points", Boolean, nullable=False, default=False),
    Column("pending_days", Integer, nullable=False, default=0),
    Column("validity_months", Integer, nullable=False, default=24),
    # Settlement economics (minor units per point unless named otherwise).
    Column("clearing_price_per_point", Price, nullable=False),
    Column("network_fee_bps", Integer, nullable=False, default=0),
    Column("donation_value_per_point", Price, nullable=False),
    Column("breakage_price_per_point", Price, nullable=False, default=0),
    Column("own_redemption_fee_per_point", Price, nullable=False, default=0),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("party_id", "effective_from"),
)
