"""Settlement errors that a finance person can act on: a machine code, a field, a message."""

from __future__ import annotations

from network.errors import HubError


class SettlementError(HubError):
    """Raised before anything is written; `code` is stable, `message` says what to fix.

    Raise sites name the code first (`SettlementError("NO_RUN", "...")`); every code one may
    name is listed below, and the staff mutations' error-code enums select from it."""

    code = "SETTLEMENT_ERROR"
    codes = (
        # the period asked for
        "BAD_PERIOD", "PERIOD_OUT_OF_RANGE", "PERIOD_NOT_OVER", "PERIOD_NOT_CLOSED", "NO_RUN",
        "BAD_TIME_ZONE",
        # computing a run from the ledger
        "NO_NETWORK_PARTY", "NO_CONTRACT", "CONTROL_TOTALS_MISMATCH", "BAD_CONSUMPTION_KIND",
        "BAD_ISSUER", "BAD_SINK", "BAD_REVERSAL", "BAD_SEGMENT",
        # parties and their Stripe links
        "NO_PARTY", "UNKNOWN_PARTY", "NOT_SETTLED_PARTY", "BAD_STRIPE_ACCOUNT_ID",
        "BAD_STRIPE_CUSTOMER_ID", "BAD_URL", "STRIPE_ID_IN_USE", "NOTHING_TO_LINK",
        "ALREADY_LINKED", "NO_STRIPE", "STRIPE_REFUSED", "STRIPE_UNREACHABLE", "LIVE_KEY",
        # paying, statements, staff tokens (command line)
        "MISSING_STRIPE_ACCOUNT", "PAY_IN_PROGRESS", "CHECK_NEEDS_DRY_RUN", "NO_SIGNATURE",
        "BAD_PUBLIC_KEY", "BAD_NAME", "BAD_ROLE",
    )

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
