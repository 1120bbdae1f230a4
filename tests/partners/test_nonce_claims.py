"""The nonce claim re-reads the key's status in the same statement, and the authenticator keeps
only what never changes about a key: on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, literal, select, update

from network.clock import utcnow
from network.db.engine import Database
from partners import nonces
from partners.keys import KeyIdentities, create_key, revoke_key
from partners.keys_schema import partner_api_keys, partner_nonces
from partners.registry import create_partner
from partners.terms import Terms


def _key(db: Database, now: datetime, code: str = "p", **kwargs: object) -> str:
    def make(conn):  # type: ignore[no-untyped-def]
        partner = create_partner(conn, code=code, name=code, terms=Terms(Decimal(1)), now=now)
        return create_key(conn, party_id=partner.id, now=now, **kwargs)[0].key_id

    return db.write(make)


def _stored(db: Database) -> list[tuple[str, str]]:
    return db.read(lambda c: [tuple(r) for r in c.execute(
        select(partner_nonces.c.key_id, partner_nonces.c.nonce).order_by(partner_nonces.c.nonce))])


def test_a_nonce_is_claimed_once(db: Database) -> None:
    now = utcnow()
    key_id = _key(db, now)
    window = now + timedelta(minutes=5)
    assert nonces.claim(db, key_id, "nonce-0001", window, now)
    assert not nonces.claim(db, key_id, "nonce-0001", window, now)
    assert nonces.claim(db, key_id, "nonce-0002", window, now)
    assert _stored(db) == [(key_id, "nonce-0001"), (key_id, "nonce-0002")]


def test_a_revoked_expired_or_unknown_key_claims_nothing(db: Database) -> None:
    now = utcnow()
    window = now + timedelta(minutes=5)
    revoked = _key(db, now)
    db.write(revoke_key, revoked, now)
    expiring = _key(db, now, "q", expires_at=now + timedelta(hours=1))
    assert not nonces.claim(db, revoked, "nonce-0001", window, now)
    assert not nonces.claim(db, "pk_nobody", "nonce-0002", window, now)
    assert nonces.claim(db, expiring, "nonce-0003", window, now)
    # At its expiry instant the key no longer works (ApiKey.status says the same).
    assert not nonces.claim(db, expiring, "nonce-0004", window, now + timedelta(hours=1))
    assert _stored(db) == [(expiring, "nonce-0003")]


def test_key_identities_read_a_key_once_and_never_remember_an_unknown_one(db: Database) -> None:
    now = utcnow()
    key_id = _key(db, now, scopes="read earn")
    identities = KeyIdentities(db)
    assert identities.get("pk_later") is None
    # A key registered after a miss is found: the miss was not remembered.
    db.write(lambda c: c.execute(insert(partner_api_keys).from_select(
        [col for col in partner_api_keys.c.keys() if col != "id"],
        select(*[literal("pk_later") if col.name == "key_id" else col
                 for col in partner_api_keys.c if col.name != "id"])
        .where(partner_api_keys.c.key_id == key_id))))
    later = identities.get("pk_later")
    assert later is not None and later.key_id == "pk_later"
    first = identities.get(key_id)
    assert first is not None and first.scopes == frozenset({"read", "earn"})
    # A revocation leaves the remembered identity as it is (the same object comes back); the
    # status, which is not remembered, comes from the claim's own read of the row.
    db.write(lambda c: c.execute(update(partner_api_keys).values(revoked_at=now)))
    assert identities.get(key_id) is first
    assert not nonces.claim(db, key_id, "nonce-0001", now + timedelta(minutes=5), now)
    assert db.read(lambda c: c.execute(
        select(func.count()).select_from(partner_nonces)).scalar_one()) == 0
