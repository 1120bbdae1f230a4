"""Fixtures of the back-office tests: a settable clock and the hub's ASGI app on PostgreSQL."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from network.db.engine import Database
from tests.network.backoffice import world as bw

LIMIT = 500  # the goodwill approval threshold of these tests
Clock = bw.Clock


@pytest.fixture
def clock() -> bw.Clock:
    return bw.Clock()


@pytest.fixture
def app(pg_db: Database, clock: bw.Clock) -> Starlette:
    return bw.hub(pg_db, clock, goodwill_approval_above=LIMIT)


def browser(app: Starlette, who: bw.Person, clock: bw.Clock) -> bw.Client:
    return bw.signed_in(app, who, clock)
