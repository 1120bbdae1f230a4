"""What every back-office page handler shares: the database, the keys, who is signed in, and
the one role check (`require`) every page and every action goes through on the server.

`Backoffice` is built once by the composition root (infra/app.py) and kept in
`app.state.backoffice`, so a page owned by another package (the partner portal in partners/,
finance pages in settlement/) calls `require(request, roles=..., partner=...)` without being
handed anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from network import audit
from network.backoffice import sessions
from network.backoffice.page import BackofficePage
from network.backoffice.roles import Principal
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.read_database import ReadDatabase
from network.hashing import Keys
from network.web import cookies, csrf

MAX_FORM_FIELDS = 30
_UNKNOWN = object()


class PageExit(Exception):
    """Ends a handler early with its answer ready (the sign-in redirect, the 403 page, the CSRF
    refusal); `bind` sends it, so handlers need no guard clauses."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class Backoffice:
    def __init__(self, db: Database, settings: Settings, *,
                 clock: Callable[[], dt.datetime] = utcnow,
                 reads: ReadDatabase | None = None) -> None:
        self.db = db
        # Where the dashboards' rollups are read: the replica when one is set and fresh enough
        # (network/db/read_database.py); no page decides a write from it.
        self.reads = reads or ReadDatabase(db, None)
        self.settings = settings
        self.keys = Keys(settings.secret_key)
        self.clock = clock

    def client_ip(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def principal(self, request: Request) -> Principal | None:
        """Who is signed in on this request (looked up once per request)."""
        known = getattr(request.state, "bo_principal", _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[no-any-return]
        token = cookies.get(request, self.settings, sessions.COOKIE)
        found = None
        if token:
            now = self.clock()
            result = self.db.read(sessions.authenticate, self.keys, token, now)
            if result is not None:
                found, stale = result
                if stale:
                    self.db.write(sessions.touch, found.session_id, now)
        request.state.bo_principal = found
        return found

    def page(self, request: Request, principal: Principal | None = None,
             kind: type[BackofficePage] = BackofficePage) -> BackofficePage:
        return kind.of(request, self.settings, self.keys, principal)

    def require(self, request: Request, *, roles: Collection[str],
                partner: int | None = None,
                kind: type[BackofficePage] = BackofficePage) -> Principal:
        """The signed-in principal if their role is among `roles` (and, with `partner`, they
        act for that partner: staff never pass a partner check, a partner user only for their
        own partner). Otherwise the request ends: a visitor is sent to sign in (a POST gets
        401), a signed-in account without the role gets 403."""
        who = self.principal(request)
        page = self.page(request, who, kind)
        if who is None:
            path = request.url.path
            target = "/partner/signin" if path.startswith("/partner") else "/console/signin"
            if request.method != "GET":
                raise PageExit(forbidden(page, status=401))
            raise PageExit(page.redirect(target))
        if who.role not in roles or (partner is not None and who.partner_id != partner):
            raise PageExit(forbidden(page))
        return who

    async def form(self, request: Request, page: BackofficePage, *, files: int = 0,
                   fields: int = MAX_FORM_FIELDS) -> FormData:
        """The posted form after the CSRF check; a stale or forged form gets a 403 page.
        `files`: how many uploaded files a multipart form may carry (none unless a page asks);
        `fields`: a page with many inputs (the campaign form's checkboxes) says so."""
        form = await request.form(max_files=files, max_fields=fields)
        if not csrf.passes(request, self.settings, self.keys, form.get(csrf.FIELD)):
            t = page.values()["t"]
            words = t("bo_error_CSRF_FAILED")
            raise PageExit(page.render("bo_error.html", status=403, title=words, message=words))
        return form

    def audit(self, conn: Connection, request: Request, who: Principal, *, action: str,
              subject: str, before: Mapping[str, Any] | None = None,
              after: Mapping[str, Any] | None = None) -> int:
        """Write the audit entry of `who`'s change in the change's own transaction."""
        return audit.record(conn, actor_kind=who.actor_kind, actor_id=who.account_id,
                            action=action, subject=subject, before=before, after=after,
                            request_id=request.headers.get("x-request-id"))


def forbidden(page: BackofficePage, status: int = 403) -> Response:
    t = page.values()["t"]
    who = page.principal
    role = t(f"role_{who.role}") if who else "-"
    return page.render("bo_error.html", status=status, title=t("bo_forbidden_title"),
                       message=t("bo_forbidden_message", role=role))


def not_found(page: BackofficePage) -> Response:
    t = page.values()["t"]
    return page.render("bo_error.html", status=404, title=t("bo_not_found_title"),
                       message=t("bo_not_found_message"))


def require(request: Request, *, roles: Collection[str], partner: int | None = None,
            kind: type[BackofficePage] = BackofficePage) -> Principal:
    """`Backoffice.require` for the app serving this request (see the module docstring)."""
    backoffice: Backoffice = request.app.state.backoffice
    return backoffice.require(request, roles=roles, partner=partner, kind=kind)


Handler = Callable[[Backoffice, Request], Awaitable[Response]]


def bind(backoffice: Backoffice, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A route endpoint for `handler`, answering a PageExit with its response."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(backoffice, request)
        except PageExit as exit_:
            return exit_.response

    endpoint.__name__ = handler.__name__
    return endpoint


def text(form: FormData, name: str) -> str:
    value: Any = form.get(name)
    return value if isinstance(value, str) else ""
