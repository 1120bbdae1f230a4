"""Structured logs: one JSON object per line on stderr, each carrying the request's id.

`RequestObserver` (ASGI middleware) gives every HTTP request an id (the caller's
`X-Request-Id` if it is a plain token, else a new one), returns it in the `X-Request-Id`
response header, and when the answer is sent logs one `request` line and counts the request in
the metrics (infra/metrics.py). That line names the route and the GraphQL operation (schema
field names), the status, the outcome code and the time taken: never the query string, a
header, a variable or a body, where card numbers, phone numbers, emails, sign-in codes, keys and
signatures travel. `JsonFormatter` also scrubs whatever other log lines carry (an exception's
message, SQLAlchemy's `[parameters: ...]`) of the shapes of those, as a second line of defence.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

from infra.metrics import observe_request
from network.config import ConfigError

LEVEL_SETTING = "POINTSNET_LOG_LEVEL"

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("pointsnet_request_id",
                                                                  default="-")

_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_HEADER = b"x-request-id"

# Shapes of personal data and secrets, replaced in every line written.
_SCRUB = [
    (re.compile(r"\[parameters: .*?\](?=\s|$)", re.S), "[parameters: redacted]"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?i)(sig\d*=)?:[A-Za-z0-9+/=_-]{40,}:"), "[signature]"),
    (re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S), "[key]"),
    # Card numbers, phone numbers, codes: any run of 5+ digits, spaces and dashes between.
    (re.compile(r"\+?\d(?:[\s-]?\d){4,}"), "[number]"),
]
# What a log record carries besides its message, kept in the JSON line when present.
_FIELDS = ("method", "route", "status", "ms", "operation", "outcome", "job", "worker", "seconds",
           "counts")


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": request_id.get(),
            "message": scrub(record.getMessage()),
        }
        for name in _FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def log_level(environ: Mapping[str, str]) -> int:
    """POINTSNET_LOG_LEVEL: info (default: a line per request), warning, error or debug."""
    name = environ.get(LEVEL_SETTING, "info").strip().upper()
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{LEVEL_SETTING} must be debug, info, warning or error, "
                          f"not {environ[LEVEL_SETTING]!r}")
    return logging.getLevelNamesMapping()[name]


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written, not when logging was set up:
    a command run in-process by click's test runner swaps stderr for a buffer it then closes."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """JSON on stderr for every logger, uvicorn's included (its access log is replaced by
    `RequestObserver`'s line, which leaves out the query string). Safe to call twice."""
    level = log_level(os.environ if environ is None else environ)
    handler = _Stderr()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False


log = logging.getLogger("pointsnet.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _HEADER:
            given = value.decode("latin-1")
            if _GOOD_ID.fullmatch(given):
                return given
            break
    return secrets.token_hex(8)


def route_label(path: str, status: int) -> str:
    """A bounded label for a request outside GraphQL: its first path segment (`/wallet`),
    or `unmatched` for a 404 (scanners try endless paths)."""
    if status == 404:
        return "unmatched"
    return "/" + path.lstrip("/").split("/", 1)[0]


class RequestObserver:
    """Request id, access log line and request metrics for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # if the app raises before answering, uvicorn answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            state = scope.get("state") or {}
            route = route_label(scope["path"], status)
            operation = state.get("operation") or route
            outcome = state.get("outcome") or ("OK" if status < 400 else f"HTTP_{status}")
            observe_request(operation, outcome, seconds)
            log.info("request", extra={
                "method": scope["method"], "route": route, "status": status,
                "ms": round(seconds * 1000, 2), "operation": operation, "outcome": outcome})
            request_id.reset(token)
