"""Splitting an effect between funders: exact sums, the largest remainder, ties by order."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from network.programme.campaigns import FULL_SHARE, FunderShare, sole_funder, split_funder
from network.programme.funding import FundedPart, split


@st.composite
def funders(draw: st.DrawFn) -> tuple[FunderShare, ...]:
    """1 to 6 distinct parties whose shares are positive and sum to 10,000."""
    count = draw(st.integers(1, 6))
    cuts = sorted(draw(st.lists(st.integers(1, FULL_SHARE - 1), min_size=count - 1,
                                max_size=count - 1, unique=True)))
    bounds = [0, *cuts, FULL_SHARE]
    parties = draw(st.lists(st.integers(1, 10**6), min_size=count, max_size=count, unique=True))
    return tuple(FunderShare(p, hi - lo) for p, lo, hi in zip(parties, bounds[:-1], bounds[1:],
                                                                 strict=True))


@given(st.integers(0, 10**12), funders())
def test_parts_sum_exactly_and_stay_within_a_point_of_the_exact_share(points, funder):
    parts = split(points, funder)
    assert [p.party_id for p in parts] == [f.party_id for f in funder]
    assert sum(p.points for p in parts) == points
    for part, share in zip(parts, funder, strict=True):
        exact = Fraction(points * share.share, FULL_SHARE)
        assert part.points >= 0
        assert exact - 1 < part.points < exact + 1
        assert part.points in (exact.__floor__(), exact.__ceil__())


@given(st.integers(0, 10**9), funders())
def test_extra_points_go_to_the_largest_remainders_first_listed_on_a_tie(points, funder):
    parts = split(points, funder)
    remainders = [(points * f.share) % FULL_SHARE for f in funder]
    rounded_up = [i for i, (part, f) in enumerate(zip(parts, funder, strict=True))
                  if part.points * FULL_SHARE > points * f.share]
    left_down = [i for i in range(len(funder)) if i not in rounded_up and remainders[i]]
    # Whoever was rounded up had a larger remainder, or an equal one and came first.
    for up in rounded_up:
        for down in left_down:
            assert (remainders[up], -up) > (remainders[down], -down)


@given(st.integers(0, 10**9), funders())
def test_the_same_inputs_always_give_the_same_parts(points, funder):
    assert split(points, funder) == split(points, tuple(funder))


def test_a_half_point_goes_to_the_first_listed_funder():
    assert split(125, split_funder((1, 5_000), (2, 5_000))) == (FundedPart(1, 63),
                                                               FundedPart(2, 62))
    assert split(125, split_funder((2, 5_000), (1, 5_000))) == (FundedPart(2, 63),
                                                               FundedPart(1, 62))


def test_the_largest_remainder_beats_the_order():
    # 10 x 0.25 = 2.5 and 10 x 0.75 = 7.5: equal remainders, first listed wins.
    assert split(10, split_funder((1, 2_500), (2, 7_500))) == (FundedPart(1, 3), FundedPart(2, 7))
    # 7 x 0.3 = 2.1 and 7 x 0.7 = 4.9: the second's remainder is larger.
    assert split(7, split_funder((1, 3_000), (2, 7_000))) == (FundedPart(1, 2), FundedPart(2, 5))


def test_a_part_may_be_zero_and_is_still_named():
    assert split(1, split_funder((1, 5_000), (2, 5_000))) == (FundedPart(1, 1), FundedPart(2, 0))
    assert split(0, sole_funder(3)) == (FundedPart(3, 0),)


def test_refuses_negative_points_and_shares_that_are_not_whole():
    with pytest.raises(ValueError, match="negative"):
        split(-1, sole_funder(1))
    with pytest.raises(ValueError, match="sum to 10000"):
        split(10, split_funder((1, 5_000), (2, 4_999)))
