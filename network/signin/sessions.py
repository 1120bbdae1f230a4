"""Member sessions: one random token per sign-in, stored only as a keyed hash.

The same table serves the web page (token in an HttpOnly cookie) and API clients (bearer token),
so a member sees and revokes both in one list. Sessions expire 30 days after creation;
`last_seen_at` is refreshed at most every few minutes to keep reads from becoming writes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from network.clock import as_utc
from network.db.engine import Database
from network.hashing import Keys, keyed_hash
from network.signin.schema import member_sessions as ms

SESSION_LIFETIME = dt.timedelta(days=30)
TOUCH_EVERY = dt.timedelta(minutes=5)
TOKEN_PREFIX = "pns_"
KINDS = ("cookie", "bearer")


@dataclass(frozen=True)
class Session:
    id: int
    member_id: int
    kind: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str
    ip: str


def _session(row) -> Session:
    return Session(row.id, row.member_id, row.kind, as_utc(row.created_at),
                   as_utc(row.last_seen_at), as_utc(row.expires_at), row.user_agent, row.ip)


def create(conn: Connection, keys: Keys, *, member_id: int, kind: str, now: dt.datetime,
           user_agent: str, ip: str) -> tuple[str, Session]:
    """Open a session; the token is returned once and never stored."""
    if kind not in KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    agent, address = (user_agent or "")[:200], (ip or "")[:45]
    expires = now + SESSION_LIFETIME
    session_id = conn.execute(insert(ms).values(
        member_id=member_id, token_hash=keyed_hash(keys.session, token), kind=kind,
        created_at=now, last_seen_at=now, expires_at=expires, user_agent=agent, ip=address,
    ).returning(ms.c.id)).scalar_one()
    return token, Session(session_id, member_id, kind, now, now, expires, agent, address)


# Built once: every page a member opens checks its cookie with it.
_LIVE = select(ms).where(ms.c.token_hash == bindparam("token_hash"), ms.c.revoked_at.is_(None))


def authenticate(conn: Connection, keys: Keys, token: str, now: dt.datetime,
                 kind: str | None = None) -> Session | None:
    """The live session behind `token`, or None (unknown, revoked, expired, or the wrong kind)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = conn.execute(_LIVE, {"token_hash": keyed_hash(keys.session, token)}).first()
    return _live(row, now, kind)


# `authenticate`'s statement as one prepared statement (Database.pg_statement): every member
# API request runs it, and through SQLAlchemy it cost about as much client CPU as a purchase's
# own statements.
_LIVE_PG = ("SELECT id, member_id, kind, created_at, last_seen_at, expires_at, user_agent, ip "
            "FROM member_sessions WHERE token_hash = %(token_hash)s AND revoked_at IS NULL")


def authenticate_in(db: Database, keys: Keys, token: str, now: dt.datetime,
                    kind: str | None = None) -> Session | None:
    """`authenticate` in its own read: on PostgreSQL one prepared statement."""
    if db.dialect != "postgresql":
        return db.read(authenticate, keys, token, now, kind)
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = db.pg_statement(_LIVE_PG, {"token_hash": keyed_hash(keys.session, token)})
    return _live(row, now, kind)


def _live(row: Any, now: dt.datetime, kind: str | None) -> Session | None:
    if row is None or as_utc(row.expires_at) <= now or (kind is not None and row.kind != kind):
        return None
    return _session(row)


def needs_touch(session: Session, now: dt.datetime) -> bool:
    return now - session.last_seen_at >= TOUCH_EVERY


def touch(conn: Connection, session_id: int, now: dt.datetime) -> None:
    """Record activity; a separate small write so authenticating stays a pure read."""
    conn.execute(update(ms).where(ms.c.id == session_id).values(last_seen_at=now))


def list_live(conn: Connection, member_id: int, now: dt.datetime) -> list[Session]:
    rows = conn.execute(
        select(ms)
        .where(ms.c.member_id == member_id, ms.c.revoked_at.is_(None), ms.c.expires_at > now)
        .order_by(ms.c.created_at.desc(), ms.c.id.desc())
    ).all()
    return [_session(r) for r in rows]


def revoke(conn: Connection, *, member_id: int, session_id: int, now: dt.datetime) -> bool:
    """Revoke one of the member's own live sessions; another member's id, or an expired
    session (which list_live no longer shows), matches nothing."""
    result = conn.execute(
        update(ms)
        .where(and_(ms.c.id == session_id, ms.c.member_id == member_id, ms.c.revoked_at.is_(None),
                    ms.c.expires_at > now))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
