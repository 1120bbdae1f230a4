"""Members' referral codes: short enough to read out, too many to guess.

Ten characters of Crockford's base32 (digits and capitals without I, L, O and U, which are
misread as 1, 1, 0 and V) carry 50 random bits: about 10^15 codes, so enumerating the codes of
even a million members finds one in a billion tries. Codes are read case-insensitively, with
spaces and dashes ignored, and the letters Crockford maps (O→0, I and L→1) read as he says.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(code: str) -> str | None:
    """The code as stored, or None when it cannot be one (wrong length or characters)."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "").translate(_READ_AS)
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def link(base_url: str, code: str) -> str:
    """Where a member's invitation leads: the join page (another issue serves it)."""
    return f"{base_url.rstrip('/')}/join?ref={quote(code)}"
