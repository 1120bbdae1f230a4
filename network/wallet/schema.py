"""Tables for member sign-in: one-time codes, sessions and rate-limit counters.

Secrets are never stored: codes and session tokens are kept as keyed hashes, addresses as the
members table's keyed lookup hash, so a copy of these tables does not let anyone sign in.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table

from network.db.schema import BigId, Timestamp, metadata

signin_codes = Table(
    "signin_codes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False),
    # Set when the code is used, or superseded by a newer code for the same member.
    Column("closed_at", Timestamp, nullable=True),
)
Index("ix_signin_codes_member", signin_codes.c.member_id, signin_codes.c.created_at)

member_sessions = Table(
    "member_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # cookie | bearer
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    Column("user_agent", String(200), nullable=False),
    Column("ip", String(45), nullable=False),
)
Index("ix_member_sessions_member", member_sessions.c.member_id, member_sessions.c.created_at)

# Fixed-window counters. In the database (not process memory) so that a limit holds across all
# workers and restarts; an upsert increments atomically on both PostgreSQL and SQLite.
rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("bucket", String(100), nullable=False),
    Column("window_start", Timestamp, nullable=False),
    Column("hits", Integer, nullable=False),
    PrimaryKeyConstraint("bucket", "window_start", name="pk_rate_limit_counters"),
)
