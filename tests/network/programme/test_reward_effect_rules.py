"""What `evaluate` gives for a campaign that gives a catalog item: a reward is worth its price in
points, split between funders, whole or skipped with the reason; lottery entries are free, and
their campaign's limits and budget count entries (no database)."""

from __future__ import annotations

import pytest

from network.programme.campaigns import IssueReward, Limits, LotteryEntries, split_funder
from network.programme.funding import FundedPart
from network.programme.index import build
from network.programme.rules import ItemOffer, Plan, Skipped, Usage, evaluate

from .values import CAFE, NETWORK, PROGRAMME, SILVER, campaign, purchase

COFFEE = 70  # a reward id
GIFT = IssueReward(COFFEE)
PRICE = 300


def plan(*campaigns, **kwargs) -> Plan:
    return evaluate(purchase(), SILVER, build(campaigns), base_points=125, programme=PROGRAMME,
                    **kwargs)


def test_the_reward_is_worth_its_price_split_between_the_funders():
    gift = campaign(effect=IssueReward(COFFEE),
                    funder=split_funder((CAFE, 5_000), (NETWORK, 5_000)))
    got = plan(gift, offers={GIFT: ItemOffer(301)})
    (effect,) = got.effects
    assert (effect.kind, effect.points, effect.parts) == (
        "reward", 301, (FundedPart(CAFE, 151), FundedPart(NETWORK, 150)))
    assert got.total == 125 + 301 and got.skipped == ()


@pytest.mark.parametrize("refusal", ["REWARD_NOT_VISIBLE", "REWARD_NOT_ON_SALE", "REWARD_LIMIT",
                                     "REWARD_OUT_OF_STOCK"])
def test_a_reward_the_member_cannot_have_skips_the_campaign_with_the_reason(refusal):
    gift, fixed = campaign(1, effect=IssueReward(COFFEE)), campaign(2)
    got = plan(gift, fixed, offers={GIFT: ItemOffer(PRICE, refusal)})
    assert [e.code for e in got.effects] == ["c2"]
    assert got.skipped == (Skipped(1, "c1", refusal),)


def test_a_reward_nobody_read_is_unknown():
    assert plan(campaign(effect=IssueReward(COFFEE))).skipped == (
        Skipped(1, "c1", "REWARD_UNKNOWN"),)


def test_a_budget_with_less_than_the_price_left_skips_rather_than_caps():
    gift = campaign(effect=IssueReward(COFFEE), limits=Limits(budget_points=1_000))
    offer = {GIFT: ItemOffer(PRICE)}
    assert plan(gift, offers=offer, budget_left={1: PRICE}).effects[0].points == PRICE
    short = plan(gift, offers=offer, budget_left={1: PRICE - 1})
    assert short.effects == () and short.skipped == (Skipped(1, "c1", "BUDGET_EXHAUSTED"),)


def test_member_limits_count_rewards_like_any_award():
    gift = campaign(effect=IssueReward(COFFEE), limits=Limits(per_member_month=1))
    got = plan(gift, offers={GIFT: ItemOffer(PRICE)}, usage={1: Usage(month=1)})
    assert got.skipped == (Skipped(1, "c1", "LIMIT_MONTH"),)


PHONE = LotteryEntries("phone", 3)


def test_entries_give_no_points_and_carry_their_count():
    got = plan(campaign(effect=PHONE), offers={PHONE: ItemOffer(0)})
    (effect,) = got.effects
    assert (effect.kind, effect.points, effect.parts, effect.entries) == ("entries", 0, (), 3)
    assert got.total == 125


@pytest.mark.parametrize("offers", [{}, {PHONE: ItemOffer(0, "DRAW_CLOSED")}])
def test_entries_in_a_closed_or_unknown_draw_skip(offers):
    assert plan(campaign(effect=PHONE), offers=offers).skipped == (
        Skipped(1, "c1", "DRAW_CLOSED"),)


def test_entries_over_the_members_place_in_the_draw_skip():
    got = plan(campaign(effect=PHONE), offers={PHONE: ItemOffer(0, "DRAW_LIMIT")})
    assert got.skipped == (Skipped(1, "c1", "DRAW_LIMIT"),)


def test_an_entries_campaigns_limits_and_budget_count_entries():
    monthly = campaign(effect=PHONE, limits=Limits(per_member_month=5, budget_points=10))
    offer = {PHONE: ItemOffer(0)}
    assert plan(monthly, offers=offer, usage={1: Usage(month=2)}).effects[0].entries == 3
    assert plan(monthly, offers=offer, usage={1: Usage(month=3)}).skipped == (
        Skipped(1, "c1", "LIMIT_MONTH"),)  # 3 + 3 would pass 5
    assert plan(monthly, offers=offer, budget_left={1: 2}).skipped == (
        Skipped(1, "c1", "BUDGET_EXHAUSTED"),)
