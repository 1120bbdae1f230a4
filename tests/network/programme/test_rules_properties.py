"""Properties of `evaluate` over random programmes: points are explained exactly, budgets and
limits hold, exclusivity holds, and the result depends on the campaigns, not their order."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from network.money import Money
from network.programme.campaigns import (
    Campaign,
    Conditions,
    FixedPoints,
    Limits,
    Multiplier,
    PointsPerAmount,
    evaluation_order,
    split_funder,
)
from network.programme.index import build
from network.programme.rules import Usage, evaluate, matches

from .values import CAFE, NETWORK, PROGRAMME, SHOP, SILVER, campaign, lines, purchase

effects = st.one_of(
    st.builds(FixedPoints, st.integers(1, 1_000)),
    st.builds(PointsPerAmount, st.decimals("0.0001", "100", places=4)),
    st.builds(Multiplier, st.decimals("1.0001", "10", places=4)))
funders = st.sampled_from([split_funder((CAFE, 10_000)), split_funder((NETWORK, 10_000)),
                           split_funder((CAFE, 5_000), (NETWORK, 5_000)),
                           split_funder((SHOP, 3_333), (CAFE, 3_333), (NETWORK, 3_334))])


@st.composite
def campaigns(draw: st.DrawFn) -> list[Campaign]:
    count = draw(st.integers(0, 8))
    made = []
    for id in range(1, count + 1):
        made.append(campaign(
            id, effect=draw(effects), funder=draw(funders), priority=draw(st.integers(-2, 2)),
            stacking=draw(st.sampled_from(["stackable", "exclusive"])),
            limits=Limits(per_member_day=draw(st.none() | st.integers(1, 3)),
                          budget_points=draw(st.none() | st.integers(1, 500))),
            conditions=draw(st.sampled_from([
                Conditions(), Conditions(partners=frozenset({CAFE})),
                Conditions(partners=frozenset({SHOP})), Conditions(tiers=frozenset({"gold"})),
                Conditions(categories=frozenset({"coffee"}))]))))
    return made


@settings(max_examples=300)
@given(campaigns(), st.integers(1, 100_000), st.integers(0, 5_000),
       st.dictionaries(st.integers(1, 8), st.integers(-10, 500)),
       st.dictionaries(st.integers(1, 8), st.integers(0, 3)), st.randoms())
def test_every_point_is_explained_and_bounded(cs, amount, base, budget_left, used_today, rng):
    fact = purchase(amount=Money(amount, "EUR"),
                    lines=lines(("latte", "coffee", amount // 2), ("bun", "pastry", amount // 2)))
    usage = {id: Usage(day=n) for id, n in used_today.items()}
    plan = evaluate(fact, SILVER, build(cs), base_points=base, programme=PROGRAMME, usage=usage,
                    budget_left=budget_left)
    by_id = {c.id: c for c in cs}
    applied = [e.campaign_id for e in plan.effects]
    assert plan.total == base + sum(e.points for e in plan.effects)
    for effect in plan.effects:
        c = by_id[effect.campaign_id]
        assert effect.points > 0
        assert sum(part.points for part in effect.parts) == effect.points
        assert [part.party_id for part in effect.parts] == [f.party_id for f in c.funder]
        if c.limits.budget_points is not None:
            assert effect.points <= budget_left.get(c.id, c.limits.budget_points)
        if c.limits.per_member_day is not None:
            assert used_today.get(c.id, 0) < c.limits.per_member_day
    # Each campaign appears once at most, applied or skipped, never both.
    skipped = [s.campaign_id for s in plan.skipped]
    assert len(set(applied)) == len(applied) and not set(applied) & set(skipped)
    # Applied campaigns keep the evaluation order; an exclusive one stands alone.
    order = [c.id for c in evaluation_order(cs)]
    assert applied == sorted(applied, key=order.index)
    if any(by_id[i].stacking == "exclusive" for i in applied):
        assert len(applied) == 1
        # ...and it is the first exclusive one able to give: any before it missed or gave nothing.
        local = fact.at.astimezone(PROGRAMME.zone)
        reasons = {s.campaign_id: s.reason for s in plan.skipped}
        for earlier in order[:order.index(applied[0])]:
            c = by_id[earlier]
            if c.stacking == "exclusive" and matches(c, fact, SILVER, local):
                assert reasons[earlier] != "EXCLUDED"
    # Same campaigns in another order: the same plan.
    shuffled = list(cs)
    random.Random(rng.random()).shuffle(shuffled)
    assert evaluate(fact, SILVER, build(shuffled), base_points=base, programme=PROGRAMME,
                    usage=usage, budget_left=budget_left) == plan


@given(st.integers(1, 10**9), st.decimals("1.0001", "10", places=4))
def test_a_multiplier_adds_exactly_its_share_of_the_base_rounded_once(base, factor):
    (effect,) = evaluate(purchase(), SILVER, build([campaign(effect=Multiplier(factor))]),
                         base_points=base, programme=PROGRAMME).effects or (None,)
    exact = (factor - 1) * base
    if effect is None:
        assert exact <= Decimal("0.5")
    else:
        assert abs(effect.points - exact) <= Decimal("0.5")
