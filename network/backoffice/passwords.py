"""Password hashes: argon2id with argon2-cffi's defaults (RFC 9106's second recommended
parameter set), stored as PHC strings so the parameters travel with each hash and can be raised
later: `needs_rehash` tells the sign-in to store a stronger hash on the next good password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 256
# A hash of a random password, checked when the login is unknown, so an unknown login costs the
# same time as a wrong password and the response time does not reveal which logins exist.
_DUMMY = _HASHER.hash("not-a-password-anyone-has-0f3a")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def problem(password: str) -> str | None:
    """Why a new password is refused, or None. Length is what matters (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    return None
