"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), written out because it is
twenty lines and the RFCs' test vectors check it (tests/network/backoffice/test_totp.py).

SHA-1, 6 digits, 30-second steps: what every authenticator app implements by default. A code is
accepted for the current step and one step either side (clock drift), and the caller remembers
the step it accepted so the same code cannot be replayed.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

from network.web.i18n import ascii_digits

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits in base32, the form authenticator apps take (RFC 4226 recommends 160)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def hotp(key: bytes, counter: int, digits: int = DIGITS,
         digest: str = "sha1") -> str:
    """RFC 4226 section 5.3: HMAC the counter, take 31 bits at the offset the last nibble names."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def step(unix_seconds: float) -> int:
    return int(unix_seconds // STEP_SECONDS)


def code_at(secret: str, unix_seconds: float) -> str:
    return hotp(_key(secret), step(unix_seconds))


def matching_step(secret: str, code: str, unix_seconds: float,
                  after_step: int | None = None) -> int | None:
    """The time step `code` belongs to (now, or one step either side), if it is later than
    `after_step` (the last one accepted); None otherwise."""
    code = ascii_digits(code.strip().replace(" ", ""))  # a Persian keyboard types ۱۲۳
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    key, now = _key(secret), step(unix_seconds)
    for candidate in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if after_step is not None and candidate <= after_step:
            continue
        if hmac.compare_digest(hotp(key, candidate), code):
            return candidate
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "Points Network") -> str:
    """The otpauth:// URI authenticator apps read from a QR code (Google's Key Uri Format)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
