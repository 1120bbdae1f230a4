"""Back-office accounts and a form-filling client for the console tests."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass

from network.backoffice import accounts, totp
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
