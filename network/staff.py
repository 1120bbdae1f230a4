"""Staff identity: the hub's own people (finance today, the back office console next) and their
bearer tokens `pnst_…`, created by `pointsnet staff create`.

In `network` so that every package that serves staff (settlement's GraphQL slice, the coming
console) authenticates them the same way. Why tokens and not partner keys: staff are people at
the hub, not partner systems, and the staff slices must not be reachable with a partner's
signing key. A token is 32 random bytes;
only its sha256 is stored, so a database leak does not leak usable tokens, and the one
indexed equality lookup costs nothing. Revoked tokens stop working at once.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import Column, Connection, String, Table, insert, select, update
from starlette.requests import Request

from network.auth import AuthError, StaffPrincipal
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import BigId, Timestamp, metadata
from network.ledger.errors import LedgerError

# Only a sha256 of the token is stored: tokens are 256-bit random, so a fast hash is enough and
# lookup is one indexed equality.
staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("roles", String(200), nullable=False),  # comma-separated, e.g. "finance"
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
)


class StaffError(LedgerError):
    """A staff token the hub will not create; the command line reports it as `CODE: message`
    like every other refusal (network.cli_errors)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field, code=code)


TOKEN_PREFIX = "pnst_"
# operator: runs the programme (approves partners' campaigns that touch others' points or sales).
ROLES = frozenset({"finance", "operator", "viewer"})
NAME_MAX = 200  # staff_tokens.name is VARCHAR(200)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Database, name: str, roles: set[str], now: datetime | None = None
           ) -> tuple[int, str]:
    """Store a new staff token and return (id, token); the token is shown only this once."""
    name = name.strip()
    # Control characters, not isprintable(): Persian names carry the zero-width non-joiner.
    if not name or len(name) > NAME_MAX or any(unicodedata.category(c) == "Cc" for c in name):
        raise StaffError("BAD_NAME", f"a staff token needs the person's name (1-{NAME_MAX} "
                         "characters, no control characters)", field="name")
    unknown = set(roles) - ROLES
    if not roles or unknown:
        raise StaffError("BAD_ROLE", f"roles must be among {sorted(ROLES)}, got "
                         f"{sorted(roles)}", field="roles")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)

    def write(conn: Connection) -> int:
        return conn.execute(insert(staff_tokens).values(
            name=name, roles=",".join(sorted(roles)), token_hash=_hash(token),
            created_at=now or utcnow()).returning(staff_tokens.c.id)).scalar_one()

    return db.write(write), token


def revoke(db: Database, token_id: int, now: datetime | None = None) -> bool:
    def write(conn: Connection) -> bool:
        result = conn.execute(update(staff_tokens).where(
            staff_tokens.c.id == token_id, staff_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now or utcnow()))
        return result.rowcount == 1

    return db.write(write)


def principal_for(conn: Connection, token: str) -> StaffPrincipal | None:
    row = conn.execute(select(staff_tokens).where(
        staff_tokens.c.token_hash == _hash(token), staff_tokens.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    return StaffPrincipal(staff_id=row.id, name=row.name, roles=frozenset(row.roles.split(",")))


def staff_authenticator(db: Database):  # type: ignore[no-untyped-def]
    """`Authorization: Bearer pnst_…` -> StaffPrincipal; other credentials are not ours."""

    def authenticate(request: Request, body: bytes) -> StaffPrincipal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
            return None
        principal = db.read(principal_for, token)
        if principal is None:
            raise AuthError(401, "STAFF_TOKEN_INVALID",
                            "the staff token is unknown or revoked; ask for a new one "
                            "(pointsnet staff create)")
        return principal

    return authenticate
