"""Apply Alembic migrations from code (`pointsnet db upgrade`), no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def drift(conn: Connection) -> list[Any]:
    """How the database at `conn` differs from the code's tables (infra/tables.py), as Alembic's
    autogenerate sees it: [] when the migrations built exactly what the code declares."""
    from infra.tables import metadata
    from network.db.schema import on_dialect

    context = MigrationContext.configure(conn, opts={
        "compare_type": True, "include_object": on_dialect(conn.dialect.name)})
    return compare_metadata(context, metadata)
