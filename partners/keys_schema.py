"""Tables for partner API keys and seen signature nonces, on the ledger's one `metadata`.

The hub stores public keys only: a leaked database cannot sign a request. Nonces live in the
database, not in process memory, so a replay is caught whichever server process receives it.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table

from network.db.schema import BigId, Timestamp, metadata

partner_api_keys = Table(
    "partner_api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key_id", String(64), nullable=False, unique=True),  # the RFC 9421 `keyid`
    Column("party_id", BigId, ForeignKey("parties.id"), nullable=False),
    Column("public_key", LargeBinary, nullable=False),  # raw 32-byte Ed25519 public key
    Column("scopes", String(200), nullable=False),  # space-separated, e.g. "read earn redeem"
    Column("label", String(100)),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp),  # NULL: does not expire
    Column("revoked_at", Timestamp),  # set once; a revoked key never works again
    # The key this one was rotated to; set once, so a key has at most one successor.
    Column("rotated_to", String(64), ForeignKey("partner_api_keys.key_id")),
)
Index("ix_partner_api_keys_party", partner_api_keys.c.party_id)

# A nonce only has to be remembered while a signature carrying it could still pass the
# `created` window, so each row says until when (`expires_at`) and old rows are pruned.
partner_nonces = Table(
    "partner_nonces",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("expires_at", Timestamp, nullable=False),
)
Index("ix_partner_nonces_expires", partner_nonces.c.expires_at)
