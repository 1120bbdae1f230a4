"""The Idempotency-Key header's rule, in one place for the hub (which refuses a bad key) and the
SDK and CLI (which refuse it before signing). It imports nothing, so the SDK stays light."""

from __future__ import annotations

HEADER = "Idempotency-Key"
# The ledger keeps keys of up to 200 characters (network.idempotency.MAX_KEY_LENGTH) and a batch
# line's key is the header's plus "#<index>"; a test pins that the two agree.
MAX_LENGTH = 192


def problem(key: str) -> str | None:
    """What is wrong with `key` as the hub reads it (HTTP trims the spaces around a header), or
    None. ASCII as well as printable: a signed header value must be ASCII (RFC 9421 section
    2.1), so "reçu-1" could never arrive intact."""
    if not key or len(key) > MAX_LENGTH or not (key.isascii() and key.isprintable()):
        return f"an Idempotency-Key is 1 to {MAX_LENGTH} printable ASCII characters"
    return None
