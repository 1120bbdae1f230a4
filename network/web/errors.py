"""Errors of the member-facing use cases (sign-in, sessions, contact changes, paging).

Here, in the shared web room, because both sign-in and the wallet raise them and sign-in must
not import the wallet (tests/test_room_direction.py); `network.wallet.errors` re-exports it for
the wallet's own modules.

A HubError (through LedgerError, so `except LedgerError` still catches them) with the same
shape -- a stable code, the field at fault, a message a person can act on -- so the page, the
GraphQL payloads and the endpoint's error formatting treat wallet and ledger refusals alike.
`params` carries numbers the page words itself (attempts left, minutes to wait);
`retry_after` becomes an HTTP Retry-After header.
"""

from __future__ import annotations

from network.ledger.errors import LedgerError


class WalletError(LedgerError):
    code = "WALLET_ERROR"
    # Every code a raise site names; the member mutations' error-code enums select from these.
    codes = (
        "INVALID_ID", "SESSION_NOT_FOUND", "INVALID_LOCALE", "INVALID_WINDOW", "INVALID_CURSOR",
        "INVALID_PAGE_SIZE", "NAME_TOO_LONG", "INVALID_NAME", "MEMBER_NOT_FOUND",
        "CONTACT_REQUIRED", "EMAIL_TAKEN", "PHONE_TAKEN", "RATE_LIMITED", "INVALID_AMOUNT",
        "AMOUNT_TOO_LARGE", "CHARITY_REQUIRED", "CHARITY_NOT_FOUND", "INSUFFICIENT_POINTS",
        "INVALID_EMAIL", "INVALID_PHONE", "ADDRESS_REQUIRED", "INVALID_CODE_FORMAT",
        "CODE_INVALID", "TOO_MANY_ATTEMPTS", "CODE_EXPIRED", "CSRF_FAILED",
        # the member's profile and privacy rights (network/profile.py, network/privacy.py)
        "INVALID_BIRTH_DATE", "CITY_TOO_LONG", "INVALID_CITY", "UNKNOWN_INTEREST",
        "ERASURE_NOT_CONFIRMED",
    )

    def __init__(self, code: str, message: str, *, field: str | None = None,
                 retry_after: int | None = None,
                 params: dict[str, int | str] | None = None) -> None:
        super().__init__(message, field=field, code=code)
        self.retry_after = retry_after
        self.params = params or {}
