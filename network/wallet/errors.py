"""Errors of the wallet's own use cases (sign-in, sessions, contact changes, paging).

A LedgerError subclass with the same shape -- a stable code, the field at fault, a message a
person can act on -- so the page, the GraphQL payloads and the endpoint's error formatting
treat wallet and ledger refusals alike. `params` carries numbers the page words itself
(attempts left, minutes to wait); `retry_after` becomes an HTTP Retry-After header.
"""

from __future__ import annotations

from network.ledger.errors import LedgerError


class WalletError(LedgerError):
    def __init__(self, code: str, message: str, *, field: str | None = None,
                 retry_after: int | None = None,
                 params: dict[str, int | str] | None = None) -> None:
        super().__init__(message, field=field, code=code)
        self.retry_after = retry_after
        self.params = params or {}
