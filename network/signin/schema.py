"""Tables for member sign-in: one-time codes, sessions and rate-limit counters.

Secrets are never stored: codes, session tokens and the addresses codes were asked for are kept
as keyed hashes, so a copy of these tables does not let anyone sign in or list who tried to.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table

from network.db.schema import BigId, Timestamp, keyed_by, metadata

# One row per code asked for, keyed by the address it was asked for. Strangers' addresses get
# rows too (member_id NULL, the code never sent), so that checking a code answers the same for
# members and strangers; see network/signin/codes.py.
signin_codes = Table(
    "signin_codes",
    metadata,
    Column("id", BigId, autoincrement=True),
    # Keyed hash of channel and normalized address: codes are looked up and retired by it.
    Column("address_hash", String(64), nullable=False),
    # The member the address belonged to when the code was asked for; NULL: nobody's.
    Column("member_id", BigId, ForeignKey("members.id"), nullable=True),
    Column("channel", String(8), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False),
    # Set when the code is used, runs out of tries or expires (a newer code for the same address
    # deletes the row instead).
    Column("closed_at", Timestamp, nullable=True),
    # signin | join. A join code is SENT to a stranger's address too (that is how one joins),
    # so a right join code proves the address; a stranger's sign-in code was never sent.
    Column("purpose", String(8), nullable=False, server_default="signin"),
    # A join code's message in the outbox: it names no member until the code enrols one.
    Column("message_id", BigId, nullable=True),
    *keyed_by("address_hash"),
)
# Both lookups are by address: "its latest code" (check) and "its codes", deleted by issue.
Index("ix_signin_codes_address", signin_codes.c.address_hash, signin_codes.c.id)

member_sessions = Table(
    "member_sessions",
    metadata,
    Column("id", BigId, autoincrement=True),
    Column("member_id", BigId, ForeignKey("members.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # cookie | bearer
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    Column("user_agent", String(200), nullable=False),
    Column("ip", String(45), nullable=False),
    *keyed_by(),
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
