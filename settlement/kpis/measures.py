"""The KPI arithmetic, pure: rates, liability in money, campaign uplift.

- redemption rate: points redeemed in the period / points issued in the period;
- breakage rate: points expired / points that left wallets (redeemed + donated + expired) in
  the period: the share of spent-or-lost points nobody used;
- liability in money: outstanding points x the issuer's contract clearing price per point (what
  it pays the partner where they are redeemed), rounded once, half-even, in minor units;
- campaign uplift: the funder's earn transactions per day on the days the campaign awarded
  points in the period, against the same number of days just before its first award day there
  (before/after, no control group: a simple, documented reading, not an experiment).
"""

from __future__ import annotations

from decimal import Decimal

from network.money import round_half_even


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four places; None when there is nothing to divide."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def breakage(expired: int, redeemed: int, donated: int) -> Decimal | None:
    return rate(expired, redeemed + donated + expired)


def money_minor(points: int, price_per_point: Decimal) -> int:
    """Points at a per-point price in minor units, rounded once (half-even)."""
    return round_half_even(Decimal(points) * price_per_point)


def uplift(during: int, during_days: int, before: int, before_days: int) -> Decimal | None:
    """(during per day) / (before per day) - 1; None without a baseline."""
    if during_days <= 0 or before_days <= 0 or before <= 0:
        return None
    ratio = (Decimal(during) / during_days) / (Decimal(before) / before_days)
    return (ratio - 1).quantize(Decimal("0.0001"))
