"""Back-office accounts, a form-filling client, a settable clock and the hub's app for the
back-office tests (the console's, the partner portal's and the dashboards')."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from infra.app import create_app
from network.backoffice import accounts, totp
from network.config import Settings
from network.db.engine import Database
from tests.support import ledger_world as w

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = w.SECRET
PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    id: int
    login: str
    secret: str
    password: str = PASSWORD

    def code(self, at: dt.datetime) -> str:
        return totp.code_at(self.secret, at.timestamp())


def person(db: Database, role: str, login: str | None = None, *, partner_id: int | None = None,
           now: dt.datetime | None = None) -> Person:
    kind = "staff" if partner_id is None else "partner_user"
    login = login or f"{role}@example.com"
    account, secret = db.write(lambda c: accounts.create(
        c, SECRET, login=login, name=role.title(), kind=kind, role=role, password=PASSWORD,
        now=now or dt.datetime.now(dt.UTC), partner_id=partner_id))
    return Person(account.id, login, secret)


class Client:
    """A TestClient that carries the CSRF token of the last page, as a form would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("follow_redirects", False)
        response = self.client.get(url, **kw)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("follow_redirects", False)
        return self.client.post(url, data={"csrf": self.csrf, **(data or {})}, **kw)

    def sign_in(self, who: Person, at: dt.datetime, door: str = "/console/signin"):  # type: ignore[no-untyped-def]
        self.get(door)
        return self.post(door, {"login": who.login, "password": who.password,
                                "code": who.code(at)})


class Clock:
    """The back office's clock, moved by the test (sessions, codes, lockouts read it)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now


def hub(db: Database, clock: Clock, **settings: Any) -> Starlette:
    """The hub's ASGI app on `db`, its back office on `clock`."""
    app = create_app(Settings(database_url=db.url, env="development", secret_key=SECRET,
                              **settings), db)
    app.state.backoffice.clock = clock
    return app


def signed_in(app: Starlette, who: Person, clock: Clock, door: str = "/console/signin",
              language: str = "en") -> Client:
    """A browser signed in as `who` through `door`; the clock moves on, so the next person's
    code is a fresh step."""
    raw = TestClient(app, base_url="http://hub.test", headers={"Accept-Language": language})
    client = Client(raw)
    assert client.sign_in(who, clock.now, door).status_code == 303
    clock.now += dt.timedelta(seconds=30)
    return client
