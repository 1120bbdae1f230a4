"""Turning a template and a request into a response: language, CSRF token, headers.

Shared by every site the hub serves to people (the member wallet today, the back office next):
a site subclasses `Page` to name its templates folder, its home and where the shared static
files are served, and to add its own template helpers. The shared templates (base.html, the
layout; _field_error.html) are found after the site's own.

Every page is private to the person who asked for it, so every response says no-store, forbids
framing, and allows only our own stylesheet and scripts of our own (static/zone.js, which
reports the browser's time zone, and static/tables.js, which labels table cells so a phone can
stack them; the pages work without either).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from network import phones
from network.config import Settings
from network.hashing import Keys
from network.ledger.errors import LedgerError
from network.web import cookies, csrf, i18n
from network.web.i18n import Locale

TEMPLATES = Path(__file__).resolve().parent / "templates"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; script-src 'self'; "
                                "img-src 'self' data:; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}



def template_environment(*folders: Path) -> Environment:
    """Templates from `folders` first, then the shared ones, so a site may replace any."""
    return Environment(
        loader=FileSystemLoader([*folders, TEMPLATES]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def error_text(locale: Locale, error: LedgerError, **context: object) -> str:
    """The member's language for a refusal; codes without words fall back to the message.
    `context`: values the page knows that a message may name (the phone examples)."""
    params = {**context, **dict(getattr(error, "params", {}) or {})}
    key = f"error_{error.code}"
    if error.code == "CODE_INVALID" and "left" in params:
        key = "error_CODE_INVALID_LEFT"
    try:
        return locale.t(key, **params)
    except KeyError:
        return error.message


@dataclass
class Page:
    """One request's view of a site's pages."""

    # What a site sets in its subclass: its templates, the brand link and "back" target, where
    # it serves the shared static files (network/web/assets.py), and its sign-out form.
    environment: ClassVar[Environment] = template_environment()
    home: ClassVar[str] = "/"
    static: ClassVar[str] = "/static"
    signout: ClassVar[str] = "/signout"

    request: Request
    settings: Settings
    keys: Keys
    locale: Locale
    csrf_secret: str
    csrf_is_new: bool
    session: object | None = None  # whoever is signed in (the site's own session type)

    @classmethod
    def of(cls, request: Request, settings: Settings, keys: Keys,
           session: object | None = None) -> Self:
        language = i18n.negotiate(request.headers.get("accept-language"),
                                  cookies.get(request, settings, cookies.LANGUAGE))
        # The member's zone as their browser reports it; else English pages use the network's.
        zone = i18n.zone(cookies.get(request, settings, cookies.ZONE))
        if zone is None and language == "en":
            zone = i18n.zone(settings.timezone)
        secret, new = csrf.browser_secret(request, settings)
        return cls(request, settings, keys, i18n.locale_for(language, zone), secret, new, session)

    def finish(self, response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers["Content-Language"] = self.locale.language
        response.headers["Vary"] = "Accept-Language, Cookie"
        if self.csrf_is_new:
            cookies.put(response, self.settings, cookies.CSRF, self.csrf_secret, max_age=None,
                        samesite="strict")
        return response

    def values(self) -> dict[str, Any]:
        """What every template may use; a site's subclass adds its own helpers."""
        locale = self.locale
        national, international = phones.examples(self.settings.default_country)
        # A phone number is digits, so the national example takes the page's digits; the
        # international one stays as an SMS gateway and the hint's "+" expect it.
        example = {"national": locale.digits(national), "international": international}
        url = self.request.url
        here = url.path + (f"?{url.query}" if url.query else "")
        values: dict[str, Any] = {
            "L": locale, "t": locale.t, "csrf": csrf.token(self.keys, self.csrf_secret),
            "signed_in": self.session is not None, "here": here, "notice": None, "error": None,
            "err": lambda e: error_text(locale, e, **example), "phone_example": example,
            "zone_cookie": cookies.name(self.settings, cookies.ZONE),
            "secure_cookies": cookies.secure(self.settings),
            "home": self.home, "static": self.static, "signout": self.signout,
        }
        return values

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        values = {**self.values(), **context}
        html = self.environment.get_template(template).render(**values)
        response = HTMLResponse(html, status_code=status)
        retry_after = getattr(context.get("error"), "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return self.finish(response)

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))
