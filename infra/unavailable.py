"""The hub's answer when PostgreSQL cannot serve a request: 503, a JSON code and Retry-After.

Nothing was written that the caller cannot get back by retrying: a write whose commit may have
happened is only ever retried with its idempotency key, which answers the first outcome. The
partner SDK retries this answer on its own (partners/client.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from network.db.engine import database_unavailable

CODE = "DATABASE_UNAVAILABLE"
# A restart takes a few seconds; a client that comes back sooner only gets another 503.
RETRY_AFTER_SECONDS = 2


def unavailable_response() -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": "the database is unavailable; retry the same request (with the "
                                "same Idempotency-Key) after Retry-After seconds",
                     "extensions": {"code": CODE}}]},
        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette exception handler for database errors no one else caught (an authenticator's
    nonce claim or key lookup, a page's read): 503 when the database is unavailable; anything
    else is a bug and stays a 500."""
    if not database_unavailable(exc):
        raise exc
    return unavailable_response()
