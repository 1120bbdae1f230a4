"""Shared fixtures: a real PostgreSQL database and a real SQLite file, both migrated by Alembic.

PostgreSQL comes from POINTSNET_TEST_PG_URL (default: the server on 127.0.0.1:5432, which the
test command starts or installs first). If it cannot be reached the tests FAIL; they never skip.
Each test gets empty tables: PostgreSQL is truncated, SQLite is a fresh copy of a migrated file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import insert, text

from infra.migrate import upgrade
from network import parties
from network.config import Settings
from network.db.engine import Database
from network.db.schema import parties as parties_table

PG_ADMIN_URL = os.environ.get("POINTSNET_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow (a minute or more each) run first: on several workers (`make test`
    runs one per core) one of them left for the end would keep the other workers idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"pointsnet_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required and could not be reached at {PG_ADMIN_URL}: {exc}. "
                    "Run the tests with `make test`, which starts or installs it.", pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_database(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.dispose()


def _reset_postgres(database: Database) -> None:
    with database.engine.begin() as conn:
        names = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"))]
        conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names)
                          + " RESTART IDENTITY CASCADE"))
        conn.execute(insert(parties_table).values(kind="network", code="network",
                                                  name="Points Network",
                                                  created_at=datetime.now(UTC)))
    parties.forget_cache()
    _forget_programme()


def _forget_programme() -> None:
    """The programme's per-process caches are keyed by database URL, which an emptied database
    keeps."""
    from network.programme import (
        conversions,
        earn,
        explain,
        ladder_store,
        rewards_buy,
        rewards_catalog,
        store,
    )

    store.forget_cache()
    ladder_store.forget()
    rewards_catalog.forget()
    rewards_buy.forget()
    explain.forget_names()
    earn.forget()
    conversions.forget()


@pytest.fixture
def pg_db(_pg_database: Database) -> Database:
    _reset_postgres(_pg_database)
    return _pg_database


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_db(_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "ledger.db"
    shutil.copy(_sqlite_template, path)
    parties.forget_cache()
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on both databases."""
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def fresh_db(db: Database, request: pytest.FixtureRequest) -> Callable[[], Database]:
    """Empties `db` again on each call: for property tests that need a clean ledger per example."""
    if db.dialect == "postgresql":
        return lambda: (_reset_postgres(db), db)[1]
    template = request.getfixturevalue("_sqlite_template")
    path = Path(db.url.removeprefix("sqlite:///"))

    def reset() -> Database:
        db.dispose()
        shutil.copy(template, path)
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        parties.forget_cache()
        return db

    return reset


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(database_url=db.url, env="test", secret_key="test-secret")


@pytest.fixture(autouse=True)
def _mutations_answer_only_declared_codes(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test doubles as a check of the mutations' error-code enums: a refusal whose code
    its mutation does not declare (network/gql/mutation.py logs it) fails the test."""
    yield
    undeclared = [r.getMessage() for r in caplog.records if hasattr(r, "undeclared_code")]
    assert not undeclared, undeclared
