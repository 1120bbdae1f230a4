"""Settlement errors that a finance person can act on: a machine code, a field, a message."""

from __future__ import annotations


class SettlementError(Exception):
    """Raised before anything is written; `code` is stable, `message` says what to fix."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
