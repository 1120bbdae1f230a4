"""The back office's refusals: a code, a message, the field at fault.

A LedgerError, so the command line prints it as `CODE: message` (network/cli_errors.py) and the
pages word it in the reader's language from the same code."""

from __future__ import annotations

from network.ledger.errors import LedgerError


class BackofficeError(LedgerError):
    def __init__(self, code: str, message: str, field: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message, field=field, code=code)
        self.retry_after = retry_after
        self.params: dict[str, object] = {}
