"""`/healthz` (the process answers) and `/readyz` (it can serve: the database answers and
its schema is at the migrations' head), for a load balancer or an orchestrator's probes."""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from infra.migrate import alembic_config
from network.db.engine import Database


def migration_heads(database_url: str) -> set[str]:
    """The revisions the code expects (read once: it parses every migration file)."""
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def applied_revisions(conn: Connection) -> set[str]:
    return set(MigrationContext.configure(conn).get_current_heads())


def readiness(db: Database, expected: set[str]) -> tuple[int, dict[str, Any]]:
    """(status, body): 200 when ready, else 503 saying which check failed and why."""
    try:
        applied = db.read(applied_revisions)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database: not ready
        return 503, {"status": "unavailable", "database": type(exc).__name__,
                     "migrations": "unknown"}
    if applied != expected:
        return 503, {"status": "unavailable", "database": "ok",
                     "migrations": f"database at {sorted(applied) or 'none'}, "
                                   f"code expects {sorted(expected)}: run `pointsnet db upgrade`"}
    return 200, {"status": "ok", "database": "ok", "migrations": "current"}


async def healthz(request: Request) -> Response:
    """Alive: the event loop answers. Deliberately no database: a database outage must not
    make an orchestrator restart every hub process (that is what /readyz tells it)."""
    return JSONResponse({"status": "ok"})


def readyz_route(db: Database) -> Any:
    expected = migration_heads(db.url)

    async def readyz(request: Request) -> Response:
        status, body = await run_in_threadpool(readiness, db, expected)
        return JSONResponse(body, status_code=status)

    return readyz
