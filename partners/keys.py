"""Partner API keys: create (hub generates the pair), register (partner brings its public key),
list, rotate (old and new both work for an overlap; a key is rotated once) and revoke
(effective on the next request: a key's status is read from the database on every request;
only what never changes about a key is kept in memory, see `KeyIdentities`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, bindparam, insert, select, update

from network import parties
from network.clock import as_utc
from network.db.engine import Database
from network.ledger.errors import InvalidInput, LedgerError
from partners.keys_schema import partner_api_keys
from partners.scopes import ALL_SCOPES, parse_scopes
from partners.signatures.algorithms import load_public_key, private_key_pem, public_key_pem

DEFAULT_ROTATION_OVERLAP = timedelta(days=7)


class KeyNotFound(LedgerError):
    code = "KEY_NOT_FOUND"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    party_id: int
    public_key: bytes
    scopes: frozenset[str]
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_to: str | None  # the successor's key id, once rotated

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def verifying_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    @property
    def public_key_pem(self) -> str:
        return public_key_pem(self.verifying_key())


def key_from_row(row: object) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,  # type: ignore[attr-defined]
        party_id=row.party_id,  # type: ignore[attr-defined]
        public_key=bytes(row.public_key),  # type: ignore[attr-defined]
        scopes=frozenset(row.scopes.split()),  # type: ignore[attr-defined]
        label=row.label,  # type: ignore[attr-defined]
        created_at=as_utc(row.created_at),  # type: ignore[attr-defined]
        expires_at=as_utc(row.expires_at) if row.expires_at else None,  # type: ignore[attr-defined]
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,  # type: ignore[attr-defined]
        rotated_to=row.rotated_to,  # type: ignore[attr-defined]
    )


def new_key_id() -> str:
    return "pk_" + secrets.token_urlsafe(12)


def register_key(
    conn: Connection,
    *,
    party_id: int,
    public_key_pem_text: str,
    now: datetime,
    scopes: str | list[str] | None = None,
    expires_at: datetime | None = None,
    label: str | None = None,
) -> ApiKey:
    """Store a partner-supplied Ed25519 public key (the private key never reaches the hub).

    `scopes=None` grants every scope; an empty list or string is refused (INVALID_INPUT).
    """
    parties.require(conn, party_id, "partner", field="partner")
    # Before parsing: a private key, even a passphrase-protected one, is refused for what it is.
    if "PRIVATE KEY" in public_key_pem_text:
        raise InvalidInput("send the public key only; keep the private key", field="publicKey")
    try:
        public = load_public_key(public_key_pem_text)
    except ValueError as exc:
        raise InvalidInput(f"not an Ed25519 public key: {exc}", field="publicKey") from exc
    # None means "not said": every scope. An explicit empty list is refused by parse_scopes
    # rather than read as "not said", which would grant everything.
    granted = ALL_SCOPES if scopes is None else parse_scopes(scopes)
    if expires_at is not None and as_utc(expires_at) <= now:
        raise InvalidInput("a key's expiry must be in the future", field="expiresAt")
    if label is not None and len(label) > 100:
        raise InvalidInput("a key label is at most 100 characters", field="label")
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = new_key_id()
    values: dict[str, Any] = {
        "key_id": key_id,
        "party_id": party_id,
        "public_key": raw,
        "scopes": " ".join(sorted(granted)),
        "label": label,
        "created_at": now,
        "expires_at": expires_at,
        "revoked_at": None,
    }
    conn.execute(insert(partner_api_keys).values(**values))
    stored = find_key(conn, key_id)
    assert stored is not None
    return stored


def create_key(
    conn: Connection,
    *,
    party_id: int,
    now: datetime,
    scopes: str | list[str] | None = None,
    expires_at: datetime | None = None,
    label: str | None = None,
) -> tuple[ApiKey, str]:
    """Generate a pair; return the stored key and the private key PEM, shown exactly once."""
    private = Ed25519PrivateKey.generate()
    key = register_key(
        conn, party_id=party_id, public_key_pem_text=public_key_pem(private.public_key()),
        now=now, scopes=scopes, expires_at=expires_at, label=label,
    )
    return key, private_key_pem(private)


_FIND = select(partner_api_keys).where(partner_api_keys.c.key_id == bindparam("key_id"))
_FIND_PG = "SELECT * FROM partner_api_keys WHERE key_id = %(key_id)s"


def find_key(conn: Connection, key_id: str) -> ApiKey | None:
    row = conn.execute(_FIND, {"key_id": key_id}).first()
    return key_from_row(row) if row else None


def lookup_key(db: Database, key_id: str) -> ApiKey | None:
    """`find_key` in a statement of its own, as the authenticator asks on every request."""
    if db.dialect == "postgresql":
        row = db.pg_statement(_FIND_PG, {"key_id": key_id})
        return key_from_row(row) if row else None
    return db.read(find_key, key_id)


@dataclass(frozen=True)
class KeyIdentity:
    """What never changes about a stored key: whose it is, its public key and its scopes (no
    statement updates them; rotation makes a new key). Its status, revoked or expired, can
    change at any moment, so it is not here."""

    key_id: str
    party_id: int
    scopes: frozenset[str]
    verifying_key: Ed25519PublicKey


class KeyIdentities:
    """key id -> KeyIdentity, read from the database the first time a key id is seen.

    Saves the authenticator a statement and a key parse on every request. Unknown key ids are
    not remembered: the key may be registered a moment later. Bounded: when full it starts
    again empty, and refilling costs one read per key.
    """

    MAX_KEYS = 10_000

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: dict[str, KeyIdentity] = {}

    def get(self, key_id: str) -> KeyIdentity | None:
        found = self._known.get(key_id)
        if found is None:
            key = lookup_key(self.db, key_id)
            if key is None:
                return None
            found = KeyIdentity(key.key_id, key.party_id, key.scopes, key.verifying_key())
            if len(self._known) >= self.MAX_KEYS:
                self._known.clear()
            self._known[key_id] = found
        return found


def list_keys(conn: Connection, party_id: int) -> list[ApiKey]:
    rows = conn.execute(
        select(partner_api_keys)
        .where(partner_api_keys.c.party_id == party_id)
        .order_by(partner_api_keys.c.id)
    )
    return [key_from_row(row) for row in rows]


def revoke_key(conn: Connection, key_id: str, now: datetime) -> ApiKey:
    key = find_key(conn, key_id)
    if key is None:
        raise KeyNotFound(f"no API key {key_id!r}", field="keyId")
    if key.revoked_at is None:
        conn.execute(
            update(partner_api_keys)
            .where(partner_api_keys.c.key_id == key_id)
            .values(revoked_at=now)
        )
    found = find_key(conn, key_id)
    assert found is not None
    return found


def rotate_key(
    conn: Connection,
    *,
    key_id: str,
    now: datetime,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
) -> tuple[ApiKey, str, ApiKey]:
    """New key with the old one's scopes; the old key keeps working for `overlap`, then expires.

    Both are active during the overlap, so a partner can roll the new key out to every till
    before the old one stops working. The new key gets the lifetime the old one was issued with,
    counted from now: a key created for 90 days is succeeded by one for 90 days, and a key that
    never expires by one that never expires. (Taking the old key's expiry instead would make
    rotating a key that is about to expire pointless, and dropping it would turn an expiring key
    into one that lives for ever.) `overlap` may be zero (the old key stops now), not negative.

    A key is rotated once: its successor is recorded in `rotated_to`, and rotating it again is
    refused (KEY_ALREADY_ROTATED), since the lifetime would be taken from the expiry the first
    rotation shortened, and the key would end up with two successors.
    """
    if overlap < timedelta(0):
        raise InvalidInput("the rotation overlap cannot be negative; use 0 to stop the old key "
                           "now", field="overlap")
    old = find_key(conn, key_id)
    if old is None:
        raise KeyNotFound(f"no API key {key_id!r}", field="keyId")
    if old.rotated_to is not None:
        raise _already_rotated(old)
    if old.status(now) != "active":
        raise InvalidInput(f"key {key_id} is {old.status(now)}; create a new key instead",
                           field="keyId", code="KEY_NOT_ACTIVE")
    lifetime = old.expires_at - old.created_at if old.expires_at is not None else None
    new, private = create_key(
        conn, party_id=old.party_id, now=now, scopes=sorted(old.scopes),
        expires_at=now + lifetime if lifetime is not None else None, label=old.label,
    )
    values: dict[str, Any] = {"rotated_to": new.key_id}
    old_until = now + overlap
    if old.expires_at is None or old.expires_at > old_until:
        values["expires_at"] = old_until
    # Guarded by `rotated_to IS NULL`: of two rotations running at once, the second finds the
    # row already claimed (PostgreSQL re-checks the condition after waiting for the first) and
    # its raise rolls back the successor it created.
    claimed = conn.execute(
        update(partner_api_keys)
        .where(partner_api_keys.c.key_id == key_id, partner_api_keys.c.rotated_to.is_(None))
        .values(**values)
    ).rowcount
    updated = find_key(conn, key_id)
    assert updated is not None
    if claimed != 1:
        raise _already_rotated(updated)
    return new, private, updated


def _already_rotated(key: ApiKey) -> InvalidInput:
    return InvalidInput(f"key {key.key_id} was already rotated to {key.rotated_to}; rotate "
                        f"{key.rotated_to} instead", field="keyId", code="KEY_ALREADY_ROTATED")
