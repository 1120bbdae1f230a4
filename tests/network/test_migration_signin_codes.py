"""0007_signin_codes_by_address on both databases, on a database that already holds codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from infra.migrate import downgrade, drift, upgrade
from network import cards, pii
from network.db.engine import Database
from network.signin.service import SignIn
from tests.conftest import PG_ADMIN_URL, _libpq
from tests.network import wallet_world as ww

BEFORE = "0005_wallet"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: this test migrates down, which the shared ones must not see."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"pointsnet_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def code_rows(db: Database) -> int:
    return db.read(lambda c: c.execute(sa.text("SELECT count(*) FROM signin_codes")).scalar_one())


def _member_before(db: Database, email: str) -> int:
    """A member as the schema at BEFORE stores one (today's `members.enrol` writes columns a
    later revision adds, so it cannot run on this schema)."""
    def insert(conn: sa.Connection) -> int:
        member_id = conn.execute(sa.text(
            "INSERT INTO members (card_number, email_cipher, email_lookup, locale, created_at) "
            "VALUES (:card, :cipher, :lookup, 'en', :t) RETURNING id"), {
                "card": cards.generate(), "cipher": pii.encrypt(ww.SECRET, email),
                "lookup": pii.lookup_hash(ww.SECRET, email), "t": ww.T0}).scalar_one()
        conn.execute(sa.text("INSERT INTO member_balances (member_id, balance, held, debt, "
                             "updated_at) VALUES (:m, 0, 0, 0, :t)"), {"m": member_id, "t": ww.T0})
        return int(member_id)

    return db.write(insert)


def test_codes_by_address_drops_open_codes_and_goes_both_ways(empty_url):
    upgrade(empty_url, BEFORE)
    db = Database(empty_url)
    try:
        sara = _member_before(db, "sara@example.com")
        db.write(lambda c: c.execute(sa.text(
            "INSERT INTO signin_codes (member_id, channel, code_hash, created_at, expires_at, "
            "attempts) VALUES (:m, 'email', :h, :t, :t, 0)"), {"m": sara, "h": "0" * 64,
                                                               "t": ww.T0}))
        upgrade(empty_url, "heads")
        assert code_rows(db) == 0  # a code keyed by member cannot be found by address
        with db.engine.connect() as conn:
            assert drift(conn) == []
        clock = ww.Clock()
        signin = SignIn(db, ww.settings(), clock=clock)
        signin.request_code("sara@example.com", client_ip="203.0.113.7")
        signin.request_code("nobody@example.com", client_ip="203.0.113.7")
        code = ww.deliver(db, ww.Inbox(), clock).code_for("sara@example.com")
        assert signin.verify("sara@example.com", code, client_ip="203.0.113.7", kind="bearer",
                             user_agent="pytest")[1].member_id == sara
        downgrade(empty_url, BEFORE)  # strangers' rows have no member: all codes go
        assert code_rows(db) == 0
        upgrade(empty_url, "heads")
    finally:
        db.dispose()
