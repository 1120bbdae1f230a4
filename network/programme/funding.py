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
from dataclasses import dataclass

from network.programme.campaigns import FULL_SHARE, FunderShare


@dataclass(frozen=True, slots=True)
class FundedPart:
    """The points one party issues for an effect (the issuer of the lot the ledger books)."""

    party_id: int
    points: int


def split(points: int, funder: Sequence[FunderShare]) -> tuple[FundedPart, ...]:
    """`points` (0 or more) shared among `funder` by the largest remainder, ties by order.
    Parts of 0 points are kept, so every funder is named in the explanation."""
    if points < 0:
        raise ValueError(f"cannot split negative points ({points})")
    if sum(part.share for part in funder) != FULL_SHARE:
        raise ValueError(f"funder shares must sum to {FULL_SHARE}, got {funder!r}")
    if len(funder) == 1:  # the common case: no arithmetic at all
        return (FundedPart(funder[0].party_id, points),)
    floors_and_remainders = [divmod(points * part.share, FULL_SHARE) for part in funder]
    missing = points - sum(floor for floor, _ in floors_and_remainders)
    # Stable sort on remainder descending keeps the funders' order among equal remainders.
    by_remainder = sorted(range(len(funder)), key=lambda i: -floors_and_remainders[i][1])
    extra = set(by_remainder[:missing])
    return tuple(FundedPart(part.party_id, floor + (1 if i in extra else 0))
                 for i, (part, (floor, _)) in enumerate(zip(funder, floors_and_remainders,
                                                            strict=True)))
