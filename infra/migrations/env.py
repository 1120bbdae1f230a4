"""Alembic environment: runs online against the URL the caller put in the config."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from infra.tables import metadata
from network.config import database_pgbouncer
from network.db.schema import on_dialect

config = context.config


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=metadata,
                          render_as_batch=True,
                          include_object=on_dialect(connectable.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        return
    section = config.get_section(config.config_ini_section, {})
    extra = {}
    if section["sqlalchemy.url"].startswith("postgresql") and database_pgbouncer():
        # Through PgBouncer pooling transactions (README: PgBouncer) a statement psycopg
        # prepared would stay behind on a server connection the next client then gets.
        extra["connect_args"] = {"prepare_threshold": None}
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool, **extra)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          include_object=on_dialect(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
