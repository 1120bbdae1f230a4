"""Ledger errors: a stable code, the input field at fault, and a message a person can act on.

Every one of these is raised before the transaction commits, so a rejected operation writes nothing.
"""

from __future__ import annotations


class LedgerError(Exception):
    code = "LEDGER_ERROR"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "code": self.code, "message": self.message}


class InvalidInput(LedgerError):
    code = "INVALID_INPUT"


class InvalidAmount(LedgerError):
    code = "INVALID_AMOUNT"


class AmountTooLarge(LedgerError):
    code = "AMOUNT_TOO_LARGE"


class InsufficientPoints(LedgerError):
    code = "INSUFFICIENT_POINTS"


class MemberNotFound(LedgerError):
    code = "MEMBER_NOT_FOUND"


class PartyNotFound(LedgerError):
    code = "PARTY_NOT_FOUND"


class EntryNotFound(LedgerError):
    code = "ENTRY_NOT_FOUND"


class HoldNotFound(LedgerError):
    code = "HOLD_NOT_FOUND"


class HoldNotActive(LedgerError):
    code = "HOLD_NOT_ACTIVE"


class HoldExpired(LedgerError):
    code = "HOLD_EXPIRED"


class CaptureExceedsHold(LedgerError):
    code = "CAPTURE_EXCEEDS_HOLD"


class AlreadyReversed(LedgerError):
    code = "ALREADY_REVERSED"


class ReversalExceedsOriginal(LedgerError):
    code = "REVERSAL_EXCEEDS_ORIGINAL"


class NotReversible(LedgerError):
    code = "NOT_REVERSIBLE"


class TransfersDisabled(LedgerError):
    code = "TRANSFERS_DISABLED"


class IdempotencyKeyReused(LedgerError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(LedgerError):
    code = "IDEMPOTENCY_IN_PROGRESS"
