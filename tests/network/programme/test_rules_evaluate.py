"""What `evaluate` gives: amounts and rounding, order, stacking, limits, budgets, tiers, funders."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from network.money import Money, round_half_even
from network.programme.campaigns import (
    AttributeCondition,
    Conditions,
    FixedPoints,
    Limits,
    Multiplier,
    PointsPerAmount,
    Trigger,
    evaluation_order,
    split_funder,
)
from network.programme.facts import CustomEvent, LifecycleEvent, Return
from network.programme.funding import FundedPart
from network.programme.index import EMPTY, build
from network.programme.rules import (
    Plan,
    Programme,
    Skipped,
    Usage,
    evaluate,
    evaluate_for_tiers,
    half_even_div,
    matches,
    periods,
)
from network.programme.tiers import DEFINITIONS

from .values import (
    CAFE,
    MEMBER,
    NETWORK,
    PROGRAMME,
    SATURDAY_AFTERNOON,
    SHOP,
    SILVER,
    TEHRAN,
    campaign,
    lines,
    purchase,
    replace,
)


def plan(*campaigns, fact=None, base=125, member=SILVER, programme=PROGRAMME, **kwargs) -> Plan:
    return evaluate(fact or purchase(), member, build(campaigns), base_points=base,
                    programme=programme, **kwargs)


def points(p: Plan) -> list[tuple[str, int]]:
    return [(e.code, e.points) for e in p.effects]


# --- amounts and rounding ---------------------------------------------------------------------

def test_no_campaigns_no_tier_bonus_leaves_the_base():
    p = evaluate(purchase(), SILVER, EMPTY, base_points=125, programme=PROGRAMME)
    assert p == Plan(125, (), ()) and p.total == 125


def test_fixed_points_are_given_as_they_are():
    p = plan(campaign(effect=FixedPoints(50)))
    assert points(p) == [("c1", 50)] and p.total == 175
    assert p.effects[0].kind == "fixed" and p.effects[0].source == "campaign"
    assert p.effects[0].campaign_id == 1 and p.effects[0].parts == (FundedPart(CAFE, 50),)


@pytest.mark.parametrize(("amount", "rate", "expected"), [
    (1250, "2", 25),  # EUR 12.50 x 2
    (1225, "2", 24),  # 24.5 -> 24 (half to even)
    (1275, "2", 26),  # 25.5 -> 26 (half to even)
    (1250, "0.5", 6),  # 6.25 -> 6
    (1, "1", 0),  # 0.01 -> 0: NO_POINTS
])
def test_points_per_amount_round_once_half_even(amount: int, rate: str, expected: int):
    p = plan(campaign(effect=PointsPerAmount(Decimal(rate))),
             fact=purchase(amount=Money(amount, "EUR")))
    if expected:
        assert points(p) == [("c1", expected)] and p.effects[0].kind == "per_amount"
    else:
        assert p.effects == () and p.skipped == (Skipped(1, "c1", "NO_POINTS"),)


def test_points_per_amount_use_the_currencys_minor_unit():
    p = plan(campaign(effect=PointsPerAmount(Decimal(1))), fact=purchase(amount=Money(1250, "JPY")))
    assert points(p) == [("c1", 1250)]


@pytest.mark.parametrize(("factor", "base", "expected"), [
    ("2", 125, 125), ("1.5", 125, 62), ("1.5", 127, 64), ("3", 125, 250), ("1.1", 5, 0)])
def test_a_multiplier_adds_factor_minus_one_times_base(factor: str, base: int, expected: int):
    # 0.5 x 125 = 62.5 -> 62; 0.5 x 127 = 63.5 -> 64; 0.1 x 5 = 0.5 -> 0.
    p = plan(campaign(effect=Multiplier(Decimal(factor))), base=base)
    assert points(p) == ([("c1", expected)] if expected else [])


def test_category_campaigns_count_only_matching_lines():
    basket = lines(("latte", "coffee", 450), ("croissant", "pastry", 350),
                   ("beans-1kg", "beans", 450))
    fact = purchase(lines=basket)
    coffee = Conditions(categories=frozenset({"coffee", "beans"}))
    per_amount = plan(campaign(effect=PointsPerAmount(Decimal(10)), conditions=coffee), fact=fact)
    assert points(per_amount) == [("c1", 90)]  # EUR 9.00 of coffee and beans x 10
    double = plan(campaign(effect=Multiplier(Decimal(2)), conditions=coffee), fact=fact)
    assert points(double) == [("c1", 90)]  # 125 base x 900 / 1250 = 90
    by_sku = plan(campaign(effect=Multiplier(Decimal(2)),
                           conditions=Conditions(skus=frozenset({"latte"}))), fact=fact)
    assert points(by_sku) == [("c1", 45)]  # 125 x 450 / 1250 = 45


def test_multipliers_add_rather_than_compound():
    p = plan(campaign(1, effect=Multiplier(Decimal(2))), campaign(2, effect=Multiplier(Decimal(3))))
    assert points(p) == [("c1", 125), ("c2", 250)] and p.total == 500  # not 125 x 2 x 3 = 750


def test_return_campaigns_count_the_returned_amount():
    back = Return(CAFE, MEMBER, Money(1000, "EUR"), SATURDAY_AFTERNOON)
    p = plan(campaign(trigger=Trigger("return"), effect=PointsPerAmount(Decimal(1))),
             fact=back, base=0)
    assert points(p) == [("c1", 10)]


def test_base_points_cannot_be_negative():
    with pytest.raises(ValueError, match="base_points"):
        plan(campaign(), base=-1)


# --- which campaigns, in which order ---------------------------------------------------------

def test_order_is_priority_descending_then_id():
    cs = [campaign(5, priority=0), campaign(3, priority=10), campaign(4, priority=10),
          campaign(1, priority=-1), campaign(2, priority=0)]
    assert [c.id for c in evaluation_order(cs)] == [3, 4, 2, 5, 1]
    assert [e.campaign_id for e in plan(*cs).effects] == [3, 4, 2, 5, 1]


def test_drafts_paused_and_ended_campaigns_never_apply():
    cs = [campaign(1, status="draft"), campaign(2, status="paused"), campaign(3, status="ended"),
          campaign(4)]
    assert points(plan(*cs)) == [("c4", 10)]
    assert build(cs).size == 1


def test_partner_campaigns_and_network_wide_ones_merge_in_order():
    cs = [campaign(1, conditions=Conditions(partners=frozenset({SHOP}))),
          campaign(2, priority=5, conditions=Conditions(partners=frozenset({CAFE}))),
          campaign(3)]
    assert points(plan(*cs)) == [("c2", 10), ("c3", 10)]
    assert points(plan(*cs, fact=purchase(partner_id=SHOP))) == [("c1", 10), ("c3", 10)]
    assert points(plan(*cs, fact=purchase(partner_id=99))) == [("c3", 10)]


def test_the_first_exclusive_campaign_that_gives_points_is_alone():
    cs = [campaign(1, priority=5), campaign(2, priority=3, stacking="exclusive"),
          campaign(3, priority=1, stacking="exclusive"), campaign(4, priority=0)]
    p = plan(*cs)
    assert points(p) == [("c2", 10)]
    assert set(p.skipped) == {Skipped(3, "c3", "EXCLUDED"), Skipped(1, "c1", "EXCLUDED"),
                              Skipped(4, "c4", "EXCLUDED")}


def test_an_exclusive_campaign_that_cannot_give_lets_the_others_apply():
    cs = [campaign(1, stacking="exclusive", limits=Limits(per_member_day=1)), campaign(2)]
    used = {1: Usage(day=1, week=1, month=1, campaign=1)}
    p = plan(*cs, usage=used)
    assert points(p) == [("c2", 10)] and p.skipped == (Skipped(1, "c1", "LIMIT_DAY"),)
    # Without the usage the exclusive one wins.
    assert points(plan(*cs)) == [("c1", 10)]


def test_an_exclusive_campaign_whose_conditions_fail_excludes_nothing():
    cs = [campaign(1, stacking="exclusive", conditions=Conditions(tiers=frozenset({"gold"}))),
          campaign(2)]
    p = plan(*cs)
    assert points(p) == [("c2", 10)] and p.skipped == ()


# --- limits and budgets ----------------------------------------------------------------------

@pytest.mark.parametrize(("limit", "usage", "reason"), [
    ("per_member_day", Usage(day=2, week=2, month=2, campaign=2), "LIMIT_DAY"),
    ("per_member_week", Usage(day=0, week=2, month=2, campaign=2), "LIMIT_WEEK"),
    ("per_member_month", Usage(day=0, week=0, month=2, campaign=2), "LIMIT_MONTH"),
    ("per_member_campaign", Usage(day=0, week=0, month=0, campaign=2), "LIMIT_CAMPAIGN"),
])
def test_each_member_limit_stops_at_its_count(limit: str, usage: Usage, reason: str):
    c = campaign(limits=Limits(**{limit: 2}))
    assert plan(c, usage={1: usage}).skipped == (Skipped(1, "c1", reason),)
    below = dataclasses.replace(usage, **{f: max(0, getattr(usage, f) - 1)
                                          for f in ("day", "week", "month", "campaign")})
    assert points(plan(c, usage={1: below})) == [("c1", 10)]


def test_usage_of_another_campaign_does_not_count():
    c = campaign(1, limits=Limits(per_member_campaign=1))
    assert points(plan(c, usage={2: Usage(campaign=5)})) == [("c1", 10)]


def test_the_budget_caps_the_effect_at_what_is_left():
    c = campaign(effect=FixedPoints(50), limits=Limits(budget_points=1_000),
                 funder=split_funder((CAFE, 5_000), (NETWORK, 5_000)))
    full = plan(c, budget_left={1: 1_000})
    assert points(full) == [("c1", 50)] and not full.effects[0].capped
    capped = plan(c, budget_left={1: 7})
    assert points(capped) == [("c1", 7)] and capped.effects[0].capped
    assert capped.effects[0].parts == (FundedPart(CAFE, 4), FundedPart(NETWORK, 3))
    assert plan(c, budget_left={1: 0}).skipped == (Skipped(1, "c1", "BUDGET_EXHAUSTED"),)
    assert plan(c, budget_left={1: -3}).skipped == (Skipped(1, "c1", "BUDGET_EXHAUSTED"),)


def test_a_campaign_missing_from_budget_left_has_its_whole_budget():
    c = campaign(effect=FixedPoints(50), limits=Limits(budget_points=30))
    p = plan(c)
    assert points(p) == [("c1", 30)] and p.effects[0].capped


def test_a_campaign_without_budget_ignores_budget_left():
    assert points(plan(campaign(), budget_left={1: 0})) == [("c1", 10)]


# --- funders -------------------------------------------------------------------------------

def test_a_split_funder_names_every_party_and_sums_exactly():
    c = campaign(effect=Multiplier(Decimal(2)),
                 funder=split_funder((CAFE, 3_333), (SHOP, 3_333), (NETWORK, 3_334)))
    (effect,) = plan(c).effects
    assert effect.points == 125
    assert effect.parts == (FundedPart(CAFE, 42), FundedPart(SHOP, 41), FundedPart(NETWORK, 42))
    assert sum(part.points for part in effect.parts) == 125


# --- tiers ---------------------------------------------------------------------------------

def tiered(multiplier: str, funder: str = "issuer") -> Programme:
    """Only silver multiplies (by `multiplier`)."""
    definitions = tuple(dataclasses.replace(
        d, earn_multiplier=Decimal(multiplier) if d.code == "silver" else Decimal(1))
        for d in DEFINITIONS)
    return Programme(zone=TEHRAN, network_party_id=NETWORK, tier_funder=funder,  # type: ignore[arg-type]
                     tiers=definitions)


def test_the_tier_multiplier_is_one_more_effect_funded_by_the_issuer():
    p = plan(programme=tiered("1.25"))
    (effect,) = p.effects
    assert (effect.source, effect.code, effect.kind, effect.campaign_id) == (
        "tier", "silver", "tier_multiplier", None)
    assert effect.points == 31 and effect.parts == (FundedPart(CAFE, 31),)  # 31.25 -> 31
    assert p.total == 156


def test_the_tier_bonus_may_be_funded_by_the_network():
    (effect,) = plan(programme=tiered("1.5", "network")).effects
    assert effect.parts == (FundedPart(NETWORK, 62),)  # 62.5 -> 62


def test_the_tier_effect_comes_first_and_survives_an_exclusive_campaign():
    p = plan(campaign(1, stacking="exclusive"), campaign(2), programme=tiered("2"))
    assert points(p) == [("silver", 125), ("c1", 10)]


def test_no_tier_effect_for_other_tiers_no_base_or_events():
    programme = tiered("2")
    assert plan(programme=programme, member=replace(SILVER, tier="gold")).effects == ()
    assert plan(programme=programme, member=replace(SILVER, tier=None)).effects == ()
    assert plan(programme=programme, base=0).effects == ()
    event = CustomEvent("review", CAFE, MEMBER, SATURDAY_AFTERNOON)
    assert plan(programme=programme, fact=event, base=0).effects == ()


def test_the_shipped_tiers_multiply_silver_gold_and_platinum():
    shipped = Programme(zone=TEHRAN, network_party_id=NETWORK, tiers=DEFINITIONS)
    assert shipped.tier_bonus == {"silver": (1, 4), "gold": (1, 2), "platinum": (1, 1)}
    assert tiered("1.25").tier_bonus == {"silver": (1, 4)}
    gold = plan(programme=shipped, member=replace(SILVER, tier="gold"))
    assert [(e.code, e.points) for e in gold.effects] == [("gold", 62)]  # 62.5 -> 62, even
    top = plan(programme=shipped, member=replace(SILVER, tier="platinum"))
    assert [(e.code, e.points) for e in top.effects] == [("platinum", 125)]


def test_one_pass_for_every_tier_gives_each_tiers_own_plan():
    """`evaluate_for_tiers` (a single earn's plan for whichever tier the statement finds) is
    `evaluate` once per tier: tier-gated campaigns, exclusivity decided per tier, the tier
    multiplier, a limit and a budget cap all as a one-tier evaluation gives them."""
    shipped = Programme(zone=TEHRAN, network_party_id=NETWORK, tiers=DEFINITIONS)
    gold_up = frozenset({"gold", "platinum"})
    index = build([
        campaign(1, stacking="exclusive", conditions=Conditions(tiers=gold_up)),
        campaign(2, effect=Multiplier(Decimal("1.5")), limits=Limits(budget_points=40)),
        campaign(3, conditions=Conditions(tiers=frozenset({"silver"}))),
        campaign(4, limits=Limits(per_member_day=1)),
        campaign(5, conditions=Conditions(tiers=frozenset({"blue"}), min_amount_minor=99_999)),
    ])
    tiers = (None, "blue", "silver", "gold", "platinum")
    kwargs = {"base_points": 125, "programme": shipped, "usage": {4: Usage(day=1)},
              "budget_left": {2: 30}}
    plans = evaluate_for_tiers(purchase(), SILVER, tiers, index, **kwargs)  # type: ignore[arg-type]
    assert plans == tuple(evaluate(purchase(), replace(SILVER, tier=t), index, **kwargs)  # type: ignore[arg-type]
                          for t in tiers)
    assert [points(p) for p in plans] == [
        [("c2", 30)], [("c2", 30)], [("silver", 31), ("c2", 30), ("c3", 10)],
        [("gold", 62), ("c1", 10)], [("platinum", 125), ("c1", 10)]]
    assert plans[3].skipped == (Skipped(4, "c4", "LIMIT_DAY"), Skipped(2, "c2", "EXCLUDED"))
    assert plans[2].skipped == (Skipped(4, "c4", "LIMIT_DAY"),)


def test_programme_settings_are_checked():
    with pytest.raises(ValueError, match="tier_funder"):
        Programme(zone=TEHRAN, network_party_id=NETWORK, tier_funder="partner",  # type: ignore[arg-type]
                  tiers=DEFINITIONS)
    with pytest.raises(ValueError, match="week_starts_on"):
        Programme(zone=TEHRAN, network_party_id=NETWORK, week_starts_on=7, tiers=DEFINITIONS)


# --- events and periods --------------------------------------------------------------------

def test_a_birthday_bonus_from_the_network():
    birthday = LifecycleEvent("birthday", MEMBER, SATURDAY_AFTERNOON)
    c = campaign(trigger=Trigger("lifecycle", "birthday"), effect=FixedPoints(200),
                 funder=split_funder((NETWORK, 10_000)), limits=Limits(per_member_month=1))
    p = plan(c, fact=birthday, base=0)
    assert p.effects[0].parts == (FundedPart(NETWORK, 200),) and p.total == 200


def test_periods_are_local_days_weeks_and_months():
    # Saturday 6 June 2026 14:30 in Tehran (UTC+3:30).
    p = periods(SATURDAY_AFTERNOON, PROGRAMME)
    assert p.day == dt.datetime(2026, 6, 5, 20, 30, tzinfo=dt.UTC)
    assert p.week == dt.datetime(2026, 5, 31, 20, 30, tzinfo=dt.UTC)  # Monday 1 June local
    assert p.month == dt.datetime(2026, 5, 31, 20, 30, tzinfo=dt.UTC)
    saturday_weeks = dataclasses.replace(PROGRAMME, week_starts_on=5)
    assert periods(SATURDAY_AFTERNOON, saturday_weeks).week == p.day
    # 23:00 UTC on Friday is already Saturday in Tehran: a new local day.
    assert periods(dt.datetime(2026, 6, 5, 23, tzinfo=dt.UTC), PROGRAMME).day == p.day


# --- rounding and the public matcher ---------------------------------------------------------

@given(st.integers(-10**15, 10**15), st.integers(1, 10**9))
def test_half_even_div_rounds_like_money_round_half_even(numerator: int, denominator: int):
    with localcontext() as context:
        context.prec = 60  # enough digits for the quotient to be exact or not near a half
        exact = Decimal(numerator) / Decimal(denominator)
        assert half_even_div(numerator, denominator) == round_half_even(exact)


@pytest.mark.parametrize(("numerator", "expected"), [(5, 2), (15, 8), (25, 12), (-5, -2),
                                                     (7, 4), (-7, -4)])
def test_half_even_div_ties_go_to_even(numerator: int, expected: int):
    assert half_even_div(numerator, 2) == expected


def test_matches_checks_trigger_partner_window_and_conditions():
    local = SATURDAY_AFTERNOON.astimezone(TEHRAN)
    silver_only = campaign(conditions=Conditions(partners=frozenset({CAFE}),
                                                 tiers=frozenset({"silver"})))
    assert matches(silver_only, purchase(), SILVER, local)
    assert not matches(silver_only, purchase(partner_id=SHOP), SILVER, local)
    assert not matches(silver_only, purchase(), replace(SILVER, tier="gold"), local)
    assert not matches(campaign(trigger=Trigger("return")), purchase(), SILVER, local)
    assert not matches(campaign(starts_at=SATURDAY_AFTERNOON + dt.timedelta(seconds=1)),
                       purchase(), SILVER, local)


def test_conditions_a_trigger_cannot_meet_never_match_even_unvalidated():
    local = SATURDAY_AFTERNOON.astimezone(TEHRAN)
    on_purchase = campaign(conditions=Conditions(attributes=(AttributeCondition("x"),)))
    assert not matches(on_purchase, purchase(), SILVER, local)
    review = CustomEvent("review", CAFE, MEMBER, SATURDAY_AFTERNOON, {"x": 1})
    with_channel = campaign(trigger=Trigger("event", "review"),
                            conditions=Conditions(channels=frozenset({"online"})))
    assert not matches(with_channel, review, SILVER, local)
    assert matches(replace(with_channel, conditions=Conditions()), review, SILVER, local)
