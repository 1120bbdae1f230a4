"""/console/signin and /partner/signin (one form: email, password, authenticator code) and
/backoffice/signout.

Both kinds of account use TOTP as the second factor (decided for issue 19): it needs no mail or
SMS delivery to work, and one code path is one thing to test. Staff sign in at /console, partner
users at /partner; an account of the other kind is refused at the wrong door with the same
words as a wrong password.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network.backoffice import accounts, lockout, sessions
from network.backoffice.errors import BackofficeError
from network.backoffice.page import BackofficePage, PartnerPortalPage
from network.backoffice.site import Backoffice, text
from network.web import cookies

DOORS = {"/console/signin": ("staff", "/console"), "/partner/signin": ("partner_user", "/partner")}


def _door(request: Request) -> tuple[str, str]:
    return DOORS[request.url.path]


def _kind_of_page(kind: str) -> type[BackofficePage]:
    return PartnerPortalPage if kind == "partner_user" else BackofficePage


async def signin_form(bo: Backoffice, request: Request) -> Response:
    kind, home = _door(request)
    who = bo.principal(request)
    page = bo.page(request, who, _kind_of_page(kind))
    if who is not None and who.kind == kind:
        return page.redirect(home)
    notice = None
    if request.query_params.get("done") == "signed_out":
        notice = page.values()["t"]("bo_notice_signed_out")
    return _form(page, kind, notice=notice)


def _form(page: BackofficePage, kind: str, status: int = 200, login: str = "",
          error: BackofficeError | None = None, notice: str | None = None) -> Response:
    response = page.render("bo_signin.html", status=status, login=login, error=error,
                           notice=notice, door=kind,
                           request_path=page.request.url.path)
    if error is not None and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def signin_submit(bo: Backoffice, request: Request) -> Response:
    kind, home = _door(request)
    page = bo.page(request, None, _kind_of_page(kind))
    form = await bo.form(request, page)
    login, password, code = text(form, "login"), text(form, "password"), text(form, "code")
    ip, now = bo.client_ip(request), bo.clock()
    wait = bo.db.read(lockout.locked_for, bo.keys, login, ip, now)
    if wait is not None:
        error = BackofficeError("LOCKED", "too many failed sign-ins", retry_after=wait)
        error.params = {"minutes": max(1, -(-wait // 60))}
        return _form(page, kind, 429, login, error)

    def attempt(conn):  # type: ignore[no-untyped-def]
        account = accounts.check(conn, bo.settings.secret_key, login=login, password=password,
                                 code=code, now=now)
        if account is None or account.kind != kind:
            return None
        token = sessions.create(conn, bo.keys, account_id=account.id, now=now,
                                user_agent=request.headers.get("user-agent", ""), ip=ip)
        return account, token

    result = bo.db.write(attempt)
    if result is None:
        bo.db.write(lockout.count_failure, bo.keys, login, ip, now)
        return _form(page, kind, 400, login,
                     BackofficeError("SIGNIN_FAILED", "sign-in failed"))
    _, token = result
    response = page.redirect(home)
    bo_cookie(response, bo, token)
    return response


def bo_cookie(response: Response, bo: Backoffice, token: str) -> None:
    cookies.put(response, bo.settings, sessions.COOKIE, token,
                max_age=int(sessions.LIFETIME.total_seconds()), samesite="strict")


async def signout(bo: Backoffice, request: Request) -> Response:
    who = bo.principal(request)
    page = bo.page(request, who)
    await bo.form(request, page)
    target = "/partner/signin" if who is not None and who.kind == "partner_user" \
        else "/console/signin"
    if who is not None:
        bo.db.write(sessions.revoke, who.session_id, bo.clock())
    response = page.redirect(f"{target}?done=signed_out")
    cookies.drop(response, bo.settings, sessions.COOKIE)
    return response
