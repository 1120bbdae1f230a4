"""Fixtures of the back-office tests: a settable clock and the hub's ASGI app on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from starlette.applications import Starlette

from infra.app import create_app
from network.config import Settings
from network.db.engine import Database
from tests.network.backoffice import world as bw

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

LIMIT = 500  # the goodwill approval threshold of these tests


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(pg_db: Database, clock: Clock) -> Starlette:
    settings = Settings(database_url=pg_db.url, env="development", secret_key=bw.SECRET,
                        goodwill_approval_above=LIMIT)
    app = create_app(settings, pg_db)
    app.state.backoffice.clock = clock
    return app


def browser(app: Starlette, who: bw.Person, clock: Clock) -> bw.Client:
    raw = TestClient(app, base_url="http://console.test")
    client = bw.Client(raw)
    assert client.sign_in(who, clock.now).status_code == 303
    clock.now += dt.timedelta(seconds=30)  # the next person's code is a fresh step
    return client
