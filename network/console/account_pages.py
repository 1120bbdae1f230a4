"""/console/accounts: operators manage back-office accounts in the browser: list staff and
partner users, create one (a partner role names its partner), change a role, disable or enable,
and reset a lost password and authenticator together.

The same functions as `pointsnet backoffice users …` (network/backoffice/accounts.py), so the
same refusals (BAD_LOGIN, LOGIN_TAKEN, BAD_ROLE…) and the same guard: nobody disables or
demotes themselves (NOT_YOURSELF) or the last enabled operator (LAST_OPERATOR). A new or reset
account's one-time password and TOTP key are shown once, on the answer to that POST, and never
stored in the clear. Every change is audited in its own transaction (ids, kinds and roles: no
names or emails in the log).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import segno
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from network import parties
from network.backoffice import accounts, totp
from network.backoffice.errors import BackofficeError
from network.backoffice.page import NavItem, register_nav
from network.backoffice.roles import OPERATORS, PARTNER_ROLES, STAFF_ROLES, Principal
from network.backoffice.site import Backoffice, text
from network.console.editor_words import EditorPage, operator

register_nav(NavItem("/console/accounts", "nav_accounts", "staff", OPERATORS))

ONE_TIME_PASSWORD_BYTES = 15  # 20 characters of URL-safe base64: well over the 12 required


def _listing(conn: Connection) -> dict[str, Any]:
    found = accounts.listing(conn)
    return {"staff": [a for a in found if a.kind == "staff"],
            "partner_users": [a for a in found if a.kind == "partner_user"],
            "partners": {p.id: p for p in parties.list_parties(conn, "partner")}}


def _render(bo: Backoffice, page: EditorPage, who: Principal, *, status: int = 200,
            error: BackofficeError | None = None, shown: dict[str, Any] | None = None,
            form: dict[str, str] | None = None, notice: str | None = None) -> Response:
    return page.render("console_accounts.html", status=status, error=error, shown=shown,
                       me=who.account_id, staff_roles=STAFF_ROLES, partner_roles=PARTNER_ROLES,
                       form={"login": "", "name": "", "role": "", "partner": "", **(form or {})},
                       notice=notice, **bo.db.read(_listing))


def _once(account: accounts.Account, password: str, secret: str, *, reset: bool
          ) -> dict[str, Any]:
    """What the person needs to sign in, for the one answer that shows it."""
    uri = totp.provisioning_uri(secret, account.login)
    return {"id": account.id, "name": account.name, "password": password, "key": secret,
            "reset": reset,
            "qr": segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")}


def _one_time_password() -> str:
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


async def listing(bo: Backoffice, request: Request) -> Response:
    who, page = operator(bo, request)
    done = request.query_params.get("done", "")
    t = page.values()["t"]
    notice = t(f"c_acc_done_{done}") if done in ("role", "disabled", "enabled") else None
    return _render(bo, page, who, notice=notice)


async def create(bo: Backoffice, request: Request) -> Response:
    who, page = operator(bo, request)
    form = await bo.form(request, page)
    sent = {name: text(form, name).strip() for name in ("login", "name", "role", "partner")}
    kind = "partner_user" if sent["role"] in PARTNER_ROLES else "staff"
    password = _one_time_password()

    def write(conn: Connection) -> tuple[accounts.Account, str]:
        # As `users add --partner`: a partner named for a staff role is BAD_KIND (create says).
        partner_id = parties.by_code(conn, sent["partner"]) if sent["partner"] else None
        if partner_id is not None and parties.kind_of(conn, partner_id) != "partner":
            partner_id = None
        if kind == "partner_user" and partner_id is None:
            raise BackofficeError("PARTNER_NOT_FOUND", "a partner user needs an existing "
                                  "partner", field="partner")
        made, secret = accounts.create(conn, bo.settings.secret_key, login=sent["login"],
                                       name=sent["name"], kind=kind, role=sent["role"],
                                       password=password, now=bo.clock(), partner_id=partner_id)
        bo.audit(conn, request, who, action="backoffice.account_added",
                 subject=f"account:{made.id}",
                 after={"kind": kind, "role": made.role, "partner_id": partner_id})
        return made, secret

    try:
        made, secret = bo.db.write(write)
    except BackofficeError as refused:
        return _render(bo, page, who, status=400, error=refused, form=sent)
    return _render(bo, page, who, status=201, shown=_once(made, password, secret, reset=False))


def _change(bo: Backoffice, request: Request, who: Principal, action: str,
            change: Callable[[Connection], tuple[accounts.Account, accounts.Account]],
            facts: Callable[[accounts.Account], dict[str, Any]]) -> None:
    """Run `change` and audit it (before and after as `facts` tells) in one transaction."""
    account_id = request.path_params["account_id"]

    def write(conn: Connection) -> None:
        before, after = change(conn)
        bo.audit(conn, request, who, action=action, subject=f"account:{account_id}",
                 before=facts(before), after=facts(after))

    bo.db.write(write)


def _state(account: accounts.Account) -> dict[str, Any]:
    return {"state": "disabled" if account.disabled_at else "active"}


async def set_role(bo: Backoffice, request: Request) -> Response:
    who, page = operator(bo, request)
    form = await bo.form(request, page)
    role, account_id = text(form, "role"), request.path_params["account_id"]
    try:
        _change(bo, request, who, "backoffice.role_changed",
                lambda c: accounts.set_role(c, account_id, role, actor_id=who.account_id),
                lambda a: {"role": a.role})
    except BackofficeError as refused:
        return _render(bo, page, who, status=409, error=refused)
    return page.redirect("/console/accounts?done=role")


async def switch(bo: Backoffice, request: Request) -> Response:
    """/console/accounts/{id}/disable or /enable."""
    who, page = operator(bo, request)
    await bo.form(request, page)
    action, account_id = request.path_params["action"], request.path_params["account_id"]
    if action not in ("disable", "enable"):
        return page.redirect("/console/accounts")
    try:
        _change(bo, request, who, f"backoffice.account_{action}d",
                lambda c: accounts.set_enabled(c, account_id, action == "enable", bo.clock(),
                                               actor_id=who.account_id), _state)
    except BackofficeError as refused:
        return _render(bo, page, who, status=409, error=refused)
    return page.redirect(f"/console/accounts?done={action}d")


async def reset(bo: Backoffice, request: Request) -> Response:
    """A new one-time password and authenticator key, shown once; the old ones stop working
    and the account's sessions end."""
    who, page = operator(bo, request)
    await bo.form(request, page)
    account_id = request.path_params["account_id"]
    password = _one_time_password()

    def write(conn: Connection) -> tuple[accounts.Account, str]:
        found, secret = accounts.reset_secrets(conn, bo.settings.secret_key, account_id,
                                               password=password, now=bo.clock())
        bo.audit(conn, request, who, action="backoffice.account_reset",
                 subject=f"account:{account_id}", after={"password": "reset", "totp": "reset"})
        return found, secret

    try:
        found, secret = bo.db.write(write)
    except BackofficeError as refused:
        return _render(bo, page, who, status=404, error=refused)
    return _render(bo, page, who, shown=_once(found, password, secret, reset=True))
