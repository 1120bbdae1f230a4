"""Cookie names and flags for the member pages, in one place.

Outside development every cookie is Secure and takes the `__Host-` prefix, which browsers only
accept from HTTPS, for path /, without a Domain: a sibling subdomain cannot plant or overwrite it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network.config import Settings

SESSION = "pn_session"
CSRF = "pn_csrf"
SIGNIN = "pn_signin"  # the address a code was just sent to, for the code form (10 minutes)
JOIN = "pn_join"  # the address (and referral code) a join code was just sent to (10 minutes)
LANGUAGE = "pn_lang"
ZONE = "pn_tz"  # the browser's time zone, written by static/zone.js (so not HttpOnly)


def secure(settings: Settings) -> bool:
    return settings.env != "development"


def name(settings: Settings, base: str) -> str:
    return f"__Host-{base}" if secure(settings) else base


def get(request: Request, settings: Settings, base: str) -> str | None:
    return request.cookies.get(name(settings, base))


def put(response: Response, settings: Settings, base: str, value: str, *, max_age: int | None,
        samesite: str = "lax") -> None:
    response.set_cookie(name(settings, base), value, max_age=max_age, path="/", httponly=True,
                        secure=secure(settings), samesite=samesite)  # type: ignore[arg-type]


def drop(response: Response, settings: Settings, base: str) -> None:
    response.delete_cookie(name(settings, base), path="/", httponly=True,
                           secure=secure(settings), samesite="lax")
