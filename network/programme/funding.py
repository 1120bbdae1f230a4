"""Splitting an effect's points between its funders, exactly.

The rule (largest remainder, Hamilton's method): each funder first gets the floor of its exact
share, points x share / 10,000; the points still missing (fewer than the number of funders) go
one each to the funders with the largest remainders; equal remainders go in the funder's order
in the campaign, first listed first. So the parts always sum to the effect's points, no part is
more than one point away from its exact share, and the same inputs always give the same parts.

Example: 125 points split 50/50 between the café and the network is 62.5 each: both get 62,
the remaining point goes to the café, listed first: (63, 62).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from network.programme.campaigns import FULL_SHARE, FunderShare


class FundedPart(NamedTuple):
    """The points one party issues for an effect (the issuer of the lot the ledger books).
    A named tuple, not a dataclass: every earn with a campaign builds some, and a tuple is
    several times cheaper to build than a frozen dataclass."""

    party_id: int
    points: int


def split(points: int, funder: Sequence[FunderShare]) -> tuple[FundedPart, ...]:
    """`points` (0 or more) shared among `funder` by the largest remainder, ties by order.
    Parts of 0 points are kept, so every funder is named in the explanation."""
    if points < 0:
        raise ValueError(f"cannot split negative points ({points})")
    if len(funder) == 1 and funder[0].share == FULL_SHARE:  # the common case: no arithmetic
        return (FundedPart(funder[0].party_id, points),)
    if sum(part.share for part in funder) != FULL_SHARE:
        raise ValueError(f"funder shares must sum to {FULL_SHARE}, got {funder!r}")
    floors, remainders = [], []
    for part in funder:
        floor, remainder = divmod(points * part.share, FULL_SHARE)
        floors.append(floor)
        remainders.append(remainder)
    missing = points - sum(floors)
    if missing:
        # Stable sort on remainder descending keeps the funders' order among equal remainders.
        for i in sorted(range(len(funder)), key=remainders.__getitem__, reverse=True)[:missing]:
            floors[i] += 1
    return tuple(FundedPart(part.party_id, floor) for part, floor in zip(funder, floors,
                                                                        strict=True))
