"""Back-office sign-in over HTTP on PostgreSQL: password + TOTP, one use per code, lockout,
the doors, the role check, sign-out and disabling."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from network import audit, parties
from network.backoffice import accounts
from network.backoffice.errors import BackofficeError
from network.db.engine import Database
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client(app: Starlette) -> Iterator[bw.Client]:
    with TestClient(app, base_url="http://console.test") as raw:
        yield bw.Client(raw)


def test_operator_signs_in_with_password_and_code_once(pg_db: Database, client: bw.Client,
                                                       clock: Clock) -> None:
    op = bw.person(pg_db, "operator")
    assert client.get("/console").headers["location"] == "/console/signin"
    response = client.sign_in(op, clock.now)
    assert response.status_code == 303 and response.headers["location"] == "/console"
    assert "pn_bo" in response.cookies
    page = client.get("/console/signin")
    assert page.status_code == 303  # already signed in
    # The same code again, in a fresh browser: refused (a code works once).
    other = bw.Client(TestClient(client.client.app, base_url="http://console.test"))
    again = other.sign_in(op, clock.now)
    assert again.status_code == 400 and 'data-code="SIGNIN_FAILED"' in again.text


@pytest.mark.parametrize("spoil", ["password", "code", "login"])
def test_any_wrong_part_fails_alike(pg_db: Database, client: bw.Client, clock: Clock,
                                    spoil: str) -> None:
    op = bw.person(pg_db, "operator")
    form = {"login": op.login, "password": op.password, "code": op.code(clock.now)}
    form[spoil] = {"password": "wrong password!!", "code": "000000",
                   "login": "nobody@example.com"}[spoil]
    if form["code"] == "000000" and op.code(clock.now) == "000000":
        form["code"] = "111111"
    client.get("/console/signin")
    response = client.post("/console/signin", form)
    assert response.status_code == 400 and 'data-code="SIGNIN_FAILED"' in response.text
    assert "pn_bo" not in response.cookies


def test_five_failures_lock_the_login(pg_db: Database, client: bw.Client, clock: Clock) -> None:
    op = bw.person(pg_db, "operator")
    client.get("/console/signin")
    for _ in range(5):
        bad = client.post("/console/signin", {"login": op.login, "password": "x" * 12,
                                              "code": "123456"})
        assert bad.status_code == 400
    locked = client.sign_in(op, clock.now)  # now even the right password and code wait
    assert locked.status_code == 429 and 'data-code="LOCKED"' in locked.text
    assert int(locked.headers["Retry-After"]) > 0
    clock.now += dt.timedelta(minutes=16)
    assert client.sign_in(op, clock.now).status_code == 303


def test_doors_and_roles(pg_db: Database, client: bw.Client, clock: Clock) -> None:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe"))
    cashier = bw.person(pg_db, "cashier", partner_id=cafe)
    # A partner user is not staff: the console's door refuses them like a wrong password.
    assert client.sign_in(cashier, clock.now).status_code == 400
    clock.now += dt.timedelta(seconds=30)
    assert client.sign_in(cashier, clock.now, door="/partner/signin").status_code == 303
    assert client.get("/console").status_code == 403  # signed in, but not staff


def test_sign_out_and_disable_end_sessions(pg_db: Database, client: bw.Client,
                                           clock: Clock) -> None:
    op = bw.person(pg_db, "operator")
    client.sign_in(op, clock.now)
    assert client.get("/console").status_code == 303
    assert client.get("/console").headers["location"] == "/console/members"
    pg_db.write(lambda c: accounts.disable(c, op.id, clock.now))
    assert client.get("/console").headers["location"] == "/console/signin"


def test_signout_revokes(pg_db: Database, client: bw.Client, clock: Clock) -> None:
    op = bw.person(pg_db, "operator")
    client.sign_in(op, clock.now)
    client.get("/console/signin?x=1")  # any page, for its csrf
    client.get("/console")
    out = client.post("/backoffice/signout")
    assert out.headers["location"] == "/console/signin?done=signed_out"
    assert client.get("/console").headers["location"] == "/console/signin"


def test_account_rules(pg_db: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    bw.person(pg_db, "operator")
    with pytest.raises(BackofficeError) as taken:
        bw.person(pg_db, "operator")
    assert taken.value.code == "LOGIN_TAKEN"
    with pytest.raises(BackofficeError) as weak:
        pg_db.write(lambda c: accounts.create(c, bw.SECRET, login="a@example.com", name="A",
                                              kind="staff", role="viewer", password="short",
                                              now=now))
    assert weak.value.code == "WEAK_PASSWORD"
    with pytest.raises(BackofficeError) as role:
        pg_db.write(lambda c: accounts.create(c, bw.SECRET, login="b@example.com", name="B",
                                              kind="staff", role="cashier", password=bw.PASSWORD,
                                              now=now))
    assert role.value.code == "BAD_ROLE"
    assert pg_db.read(lambda c: audit.entries(c)) == []  # creating here is not audited


def test_the_language_switch_serves_the_console_in_persian(pg_db: Database, client: bw.Client,
                                                           clock: Clock) -> None:
    op = bw.person(pg_db, "operator")
    client.sign_in(op, clock.now)
    client.get("/console/members")
    switched = client.post("/lang", {"lang": "fa", "next": "/console/members"})
    assert switched.headers["location"] == "/console/members"
    page = client.get("/console/members")
    assert 'dir="rtl"' in page.text and "یافتن عضو" in page.text
