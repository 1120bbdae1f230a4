"""The points ledger: double-entry, append-only, integer points, with provenance.

Operations are plain functions taking a `Database`; each runs in one transaction, is idempotent
by (scope, key), and raises a `LedgerError` subclass (writing nothing) when it refuses.
"""

from network.ledger.earning import award_bonus, earn
from network.ledger.expiry import ExpiryReport, expire_due
from network.ledger.holds import authorize_hold, capture_hold, void_hold
from network.ledger.receipts import MAX_POINTS, Receipt
from network.ledger.reversals import reverse_earn, reverse_redemption
from network.ledger.spending import donate, redeem, transfer

__all__ = [
    "MAX_POINTS", "ExpiryReport", "Receipt", "authorize_hold", "award_bonus", "capture_hold",
    "donate", "earn", "expire_due", "redeem", "reverse_earn", "reverse_redemption", "transfer",
    "void_hold",
]
