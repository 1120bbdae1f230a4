"""Back-office sessions: the member sessions' pattern (network/signin/sessions.py) with a
shorter life, because these accounts can change other people's points.

A random token in the `pn_bo` cookie (HttpOnly, SameSite=Strict, `__Host-` outside
development); the table keeps only its keyed hash. A session lasts 12 hours from sign-in and
ends after 30 minutes without a request; disabling the account ends it at once.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import Connection, insert, select, update

from network.backoffice.roles import Principal
from network.backoffice.schema import backoffice_accounts as accounts
from network.backoffice.schema import backoffice_sessions as bs
from network.clock import as_utc
from network.hashing import Keys, keyed_hash

COOKIE = "pn_bo"
LIFETIME = dt.timedelta(hours=12)
IDLE = dt.timedelta(minutes=30)
TOUCH_EVERY = dt.timedelta(minutes=1)
TOKEN_PREFIX = "pnb_"


def create(conn: Connection, keys: Keys, *, account_id: int, now: dt.datetime,
           user_agent: str, ip: str) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(bs).values(
        account_id=account_id, token_hash=keyed_hash(keys.session, token), created_at=now,
        last_seen_at=now, expires_at=now + LIFETIME, user_agent=(user_agent or "")[:200],
        ip=(ip or "")[:45]))
    return token


def authenticate(conn: Connection, keys: Keys, token: str, now: dt.datetime
                 ) -> tuple[Principal, bool] | None:
    """The principal behind `token` and whether its last-seen time should be refreshed; None
    for an unknown, revoked, expired or idle session, or a disabled account."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = conn.execute(
        select(bs.c.id, bs.c.expires_at, bs.c.last_seen_at, accounts.c.id.label("account_id"),
               accounts.c.name, accounts.c.kind, accounts.c.role, accounts.c.partner_id)
        .join(accounts, accounts.c.id == bs.c.account_id)
        .where(bs.c.token_hash == keyed_hash(keys.session, token), bs.c.revoked_at.is_(None),
               accounts.c.disabled_at.is_(None))).first()
    if row is None or as_utc(row.expires_at) <= now or now - as_utc(row.last_seen_at) >= IDLE:
        return None
    principal = Principal(row.account_id, row.name, row.kind, row.role, row.partner_id, row.id)
    return principal, now - as_utc(row.last_seen_at) >= TOUCH_EVERY


def touch(conn: Connection, session_id: int, now: dt.datetime) -> None:
    conn.execute(update(bs).where(bs.c.id == session_id).values(last_seen_at=now))


def revoke(conn: Connection, session_id: int, now: dt.datetime) -> None:
    conn.execute(update(bs).where(bs.c.id == session_id, bs.c.revoked_at.is_(None))
                 .values(revoked_at=now))
