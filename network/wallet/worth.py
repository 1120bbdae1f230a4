"""What points are worth in money, at the network's published value per point.

The value is POINTSNET_POINT_VALUE (a Decimal in POINTSNET_CURRENCY per point). The wallet shows
it as a guide beside the spendable points; it moves no money, so it is rounded once, half-even,
to the currency's minor unit (network/money.py's one rounding rule) and never summed further.
"""

from __future__ import annotations

from decimal import Decimal

from network.money import Money


def worth(points: int, point_value: Decimal, currency: str) -> Money:
    """`points` at `point_value` each, e.g. 1,400 points at EUR 0.005 -> Money(700, 'EUR')."""
    return Money.from_major(Decimal(points) * point_value, currency)
