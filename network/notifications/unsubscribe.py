"""One-click unsubscribe tokens: a link in every non-transactional email that works without
signing in (RFC 8058), so it must carry its own proof.

The token names the member and the category of email to stop, signed with an HMAC under a key
derived from POINTSNET_SECRET_KEY for this one use. It does not expire: an old email's link
should still work, and all it can do is switch messages off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

CATEGORIES = ("programme", "marketing")


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"pointsnet-unsubscribe-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make(secret: str, member_id: int, category: str) -> str:
    if category not in CATEGORIES:
        raise ValueError(f"no unsubscribing from {category!r} messages")
    payload = f"{member_id}.{category}"
    mac = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()[:16]
    return f"{_b64(payload.encode())}.{_b64(mac)}"


def read(secret: str, token: str) -> tuple[int, str] | None:
    """(member id, category) of a genuine token, else None."""
    if len(token) > 200 or token.count(".") != 1:
        return None
    encoded, _, mac = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    expected = _b64(hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()[:16])
    if not hmac.compare_digest(expected, mac):
        return None
    member, _, category = payload.partition(".")
    if not member.isascii() or not member.isdigit() or category not in CATEGORIES:
        return None
    return int(member), category


def url(base_url: str, secret: str, member_id: int, category: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{make(secret, member_id, category)}"
