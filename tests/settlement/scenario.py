"""The hand-computed settlement scenario shared by the domain and database tests.

Parties: network hub N=1, partners A (cafe)=2, B (telecom)=3, C (pharmacy)=4, charity K=5.
Prices are minor units (cents) per point. Expected money was computed by hand; see
test_clearing_scenario.py for the arithmetic line by line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from settlement.terms import ContractTerms

N, A, B, C, K = 1, 2, 3, 4, 5
PARTY_KINDS = {N: "network", A: "partner", B: "partner", C: "partner", K: "charity"}
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def terms(party: int, clearing: str, fee_bps: int, donation: str, breakage: str, own: str,
          since: datetime = SINCE) -> ContractTerms:
    return ContractTerms(party, since, Decimal(clearing), fee_bps, Decimal(donation),
                         Decimal(breakage), Decimal(own))


TERMS = (
    terms(A, "1.00", 150, "0.90", "0.50", "0.10"),
    terms(B, "0.95", 200, "1.00", "0", "0.05"),
    terms(C, "1.05", 100, "0.80", "0.25", "0"),
)

# (issuer, sink, kind, points) consumed in October 2026 (the sink of expiry is the hub).
OCTOBER = (
    (A, B, "redemption", 10_000),   # A pays B 10000 x 0.95 = 9500
    (A, C, "redemption", 3_333),    # A pays C 3333 x 1.05 = 3499.65 -> 3500
    (B, A, "redemption", 7_001),    # B pays A 7001 x 1.00 = 7001
    (B, C, "redemption", 50),       # B pays C 50 x 1.05 = 52.5 -> 52 (half-even tie)
    (C, A, "redemption", 2_500),    # C pays A 2500
    (A, A, "redemption", 5_000),    # own: fee 5000 x 0.10 = 500 to N
    (B, B, "redemption", 1_234),    # own: fee 1234 x 0.05 = 61.7 -> 62 to N
    (A, K, "donation", 4_000),      # A pays K 3600
    (B, K, "donation", 1_555),      # B pays K 1555
    (C, K, "donation", 1_001),      # C pays K 800.8 -> 801
    (A, N, "expiry", 2_000),        # A pays N 1000
    (B, N, "expiry", 9_999),        # B pays N 0 (no breakage share)
    (C, N, "expiry", 333),          # C pays N 83.25 -> 83
)
# Cleared-value fees: A 13000 x 1.5% = 195; B 7053 x 2% = 141.06 -> 141; C 2500 x 1% = 25.
OCTOBER_NETS = {A: -8794, B: 689, C: 143, K: 5956, N: 2006}
OCTOBER_GROSS = 30515

# November: only a reversal of 1,000 of A's points redeemed at B in October.
# A pays B -1000 x 0.95 = -950; fee on cleared value -950 x 1.5% = -14.25 -> -14.
NOVEMBER = ((A, B, "redemption", -1_000),)
NOVEMBER_NETS = {A: 964, B: -950, N: -14}
