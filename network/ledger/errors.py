"""Ledger errors: a stable code, the input field at fault, and a message a person can act on.

Every one of these is raised before the transaction commits, so a rejected operation writes nothing.
"""

from __future__ import annotations

from network.errors import HubError


class LedgerError(HubError):
    """The ledger's and the partner registry's refusals."""

    code = "LEDGER_ERROR"


class InvalidInput(LedgerError):
    code = "INVALID_INPUT"


class InvalidAmount(LedgerError):
    code = "INVALID_AMOUNT"


class AmountEarnsNothing(InvalidAmount):
    code = "AMOUNT_EARNS_NOTHING"


class AmountTooLarge(LedgerError):
    code = "AMOUNT_TOO_LARGE"


class InsufficientPoints(LedgerError):
    code = "INSUFFICIENT_POINTS"


class MemberBlocked(LedgerError):
    """An operator blocked the member (network/member_blocks.py): their points cannot be
    spent until they are unblocked; earning still works."""

    code = "MEMBER_BLOCKED"


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


# Input refusals with codes of their own. Each is an InvalidInput, so `except InvalidInput`
# still catches them; raise sites that pass `InvalidInput(..., code="BATCH_EMPTY")` carry the
# same code, which is what userErrors and the GraphQL enums go by.


class Required(InvalidInput):
    code = "REQUIRED"


class InvalidId(InvalidInput):
    code = "INVALID_ID"


class MemberReference(InvalidInput):
    code = "MEMBER_REFERENCE"


class InvalidCardNumber(InvalidInput):
    code = "INVALID_CARD_NUMBER"


class InvalidPhone(InvalidInput):
    code = "INVALID_PHONE"


class InvalidEmail(InvalidInput):
    code = "INVALID_EMAIL"


class InvalidCurrency(InvalidInput):
    code = "INVALID_CURRENCY"


class CurrencyMismatch(InvalidInput):
    code = "CURRENCY_MISMATCH"


class BatchEmpty(InvalidInput):
    code = "BATCH_EMPTY"


class BatchTooLarge(InvalidInput):
    code = "BATCH_TOO_LARGE"


class InvalidPageSize(InvalidInput):
    code = "INVALID_PAGE_SIZE"


class InvalidCursor(InvalidInput):
    code = "INVALID_CURSOR"


class MultipleMutations(InvalidInput):
    code = "MULTIPLE_MUTATIONS"


class IdempotencyKeyMissing(InvalidInput):
    code = "IDEMPOTENCY_KEY_MISSING"


class IdempotencyKeyInvalid(InvalidInput):
    code = "IDEMPOTENCY_KEY_INVALID"
