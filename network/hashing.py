"""Keyed hashes for the secrets sign-in and the pages handle (codes, session tokens, rate-limit
keys, CSRF tokens). In `network` itself because both network/signin and network/web use it.

HMAC with a key derived from the hub's secret, one sub-key per purpose: a leaked table of
six-digit code hashes cannot be brute-forced offline without the secret, and a hash made for one
purpose can never be replayed as another.
"""

from __future__ import annotations

import hashlib
import hmac


def derive_key(secret_key: str, purpose: str) -> bytes:
    # The label predates the move out of the wallet; changing it would void every session.
    label = f"pointsnet-wallet:{purpose}".encode()
    return hmac.new(secret_key.encode(), label, hashlib.sha256).digest()


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class Keys:
    """Sign-in's and the pages' sub-keys, derived once per process from Settings.secret_key."""

    def __init__(self, secret_key: str) -> None:
        self.code = derive_key(secret_key, "signin-code")
        self.session = derive_key(secret_key, "session-token")
        self.rate = derive_key(secret_key, "rate-limit")
        self.csrf = derive_key(secret_key, "csrf")
