"""CSRF protection for every form: a synchronizer token bound to a per-browser secret.

The browser holds a random secret in an HttpOnly SameSite=Strict cookie; each form carries
HMAC(secret) in a hidden field. A cross-site page can neither read the cookie nor compute the
token, and on top of that a POST whose Origin (or Referer) names another site is refused.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from network.config import Settings
from network.hashing import Keys, keyed_hash
from network.web import cookies

FIELD = "csrf"


def browser_secret(request: Request, settings: Settings) -> tuple[str, bool]:
    """The browser's CSRF secret and whether it is new (and so must be set as a cookie)."""
    existing = cookies.get(request, settings, cookies.CSRF)
    if existing and 20 <= len(existing) <= 100:
        return existing, False
    return secrets.token_urlsafe(32), True


def token(keys: Keys, secret: str) -> str:
    return keyed_hash(keys.csrf, secret)


def _same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        # No header: older browsers and privacy settings drop it; the token still has to match.
        return source != "null"
    parts = urlsplit(source)
    return parts.netloc == request.headers.get("host", request.url.netloc)


def passes(request: Request, settings: Settings, keys: Keys, submitted: object) -> bool:
    """Whether a posted form may be acted on; each site words its own refusal (the wallet's
    is `error_CSRF_FAILED`), so this only answers yes or no."""
    secret = cookies.get(request, settings, cookies.CSRF)
    return bool(secret and isinstance(submitted, str) and _same_origin(request)
                and hmac.compare_digest(submitted, token(keys, secret)))
