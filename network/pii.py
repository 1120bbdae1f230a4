"""Contact details at rest: encrypted with AES-GCM, found by an HMAC of the normalized value.

Both keys are derived from POINTSNET_SECRET_KEY with HKDF under different labels, so the lookup
hash reveals nothing that the encryption key would, and rotating one label rotates one use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from network.ledger.errors import InvalidInput

# No whitespace and no control characters (C0, DEL, C1): PostgreSQL's text refuses NUL, and no
# mail system delivers to them.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f]+"
                    r"\.[^@\s\x00-\x1f\x7f-\x9f]{2,}$")


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pointsnet-pii", info=label).derive(
        secret.encode())


@lru_cache(maxsize=8)
def _keys(secret: str) -> tuple[bytes, bytes]:
    return _derive(secret, b"encrypt"), _derive(secret, b"lookup")


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput("that is not an email address", field="email", code="INVALID_EMAIL")
    return value


def lookup_hash(secret: str, value: str) -> str:
    return hmac.new(_keys(secret)[1], value.encode(), hashlib.sha256).hexdigest()


def encrypt(secret: str, value: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_keys(secret)[0]).encrypt(nonce, value.encode(), None)


def decrypt(secret: str, blob: bytes) -> str:
    return AESGCM(_keys(secret)[0]).decrypt(blob[:12], blob[12:], None).decode()
