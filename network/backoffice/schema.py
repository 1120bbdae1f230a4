"""Tables of back-office identity: accounts and their browser sessions.

One accounts table for staff and partner users: the sign-in, the session and the audit trail are
the same for both; only `kind`, `role` and `partner_id` differ, and a CHECK keeps them coherent
(a partner user always names their partner, staff never do).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
)

from network.db.schema import BigId, Timestamp, metadata

backoffice_accounts = Table(
    "backoffice_accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # The sign-in name: an email address, lower-cased. Staff identity, not member PII.
    Column("login", String(200), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # staff | partner_user
    Column("role", String(16), nullable=False),
    Column("partner_id", BigId, ForeignKey("parties.id")),
    Column("password_hash", String(200), nullable=False),  # argon2id, PHC string
    Column("totp_cipher", LargeBinary, nullable=False),  # the TOTP secret, encrypted (pii.py)
    # The last TOTP time step accepted: a code is good once, even inside its 30 s window.
    Column("totp_last_step", BigInteger),
    Column("created_at", Timestamp, nullable=False),
    Column("disabled_at", Timestamp),
    CheckConstraint("(kind = 'staff' AND partner_id IS NULL) OR "
                    "(kind = 'partner_user' AND partner_id IS NOT NULL)",
                    name="partner_user_has_partner"),
)

backoffice_sessions = Table(
    "backoffice_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", BigId, ForeignKey("backoffice_accounts.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
    Column("user_agent", String(200), nullable=False),
    Column("ip", String(45), nullable=False),
)
Index("ix_backoffice_sessions_account", backoffice_sessions.c.account_id)
