"""What every member page handler shares: the database, the sign-in service, the current member.

Handlers live in modules by what they do (signin_pages, wallet_pages, donate_pages,
account_pages); this class is the small amount of state they have in common.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.read_database import ReadDatabase
from network.notifications.inline import InlineDrainer, drainer_for
from network.signin.service import SignIn
from network.signin.sessions import Session
from network.wallet.pages.page import WalletPage
from network.web import cookies, csrf
from network.web.rendering import Page

MAX_FORM_FIELDS = 20


_FROM_ENV = object()


class PageExit(Exception):
    """Ends a page handler early with its answer ready (the sign-in redirect, the CSRF refusal).
    The route binder (`pages._bind`) sends `response`, so handlers need no guard clauses."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class Site:
    def __init__(self, db: Database, settings: Settings, signin: SignIn | None = None, *,
                 drainer: InlineDrainer | None | object = _FROM_ENV,
                 clock: Callable[[], dt.datetime] = utcnow,
                 reads: ReadDatabase | None = None) -> None:
        """`drainer`: who sends queued messages after a request; by default the process's
        inline drainer (POINTSNET_NOTIFY_*), None to leave them for `notifications drain`.
        `reads`: where the pages' read models read (a fresh replica or `db`); sign-in,
        sessions and every form's action stay on `db`."""
        self.db = db
        self.reads = reads or ReadDatabase(db)
        self.settings = settings
        self.clock = clock
        self.signin = signin or SignIn(db, settings, clock=clock)
        # Resolved now, so a bad POINTSNET_NOTIFY_* setting stops the app at start-up.
        self._drainer = drainer_for(db) if drainer is _FROM_ENV else drainer

    def client_ip(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def session(self, request: Request) -> Session | None:
        token = cookies.get(request, self.settings, cookies.SESSION)
        return self.signin.authenticate(token, kind="cookie") if token else None

    def page(self, request: Request, session: Session | None = None) -> Page:
        return WalletPage.of(request, self.settings, self.signin.keys, session)

    def member(self, request: Request) -> tuple[Session, Page]:
        """The signed-in member's session and page; a visitor is sent to /signin instead."""
        session = self.session(request)
        page = self.page(request, session)
        if session is None:
            raise PageExit(page.redirect("/signin"))
        return session, page

    async def form(self, request: Request, page: Page) -> FormData:
        """The posted form, after the CSRF check every form goes through; a stale or forged
        form is answered with `csrf_failure` instead."""
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        if not csrf.passes(request, self.settings, self.signin.keys, form.get(csrf.FIELD)):
            raise PageExit(csrf_failure(page))
        return form

    def send_queued(self) -> None:
        """Send what this request queued now, in the background, so a code needs no cron."""
        if isinstance(self._drainer, InlineDrainer):
            self._drainer.kick()


def text(form: FormData, name: str) -> str:
    value: Any = form.get(name)
    return value if isinstance(value, str) else ""


def csrf_failure(page: Page) -> Any:
    """A stale or forged form: say so plainly and offer a fresh one, never act on it."""
    words = page.locale.t("error_CSRF_FAILED")
    return page.render("error.html", status=403, title=words, message=words)
