"""A batch's memoised rules (network/programme/batch_rules.py) answer, line by line, exactly the
plan `rules.evaluate` answers for that line alone: over random programmes (every purchase
condition, effects priced from the base points and from the amount, limits, budgets, stacking,
tier multipliers) and random batches whose lines repeat shapes, amounts and base points."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from network.money import Money
from network.programme.batch_rules import BatchRules
from network.programme.campaigns import (
    Conditions,
    FixedPoints,
    HourWindow,
    Limits,
    Multiplier,
    PointsPerAmount,
    split_funder,
)
from network.programme.facts import MemberState
from network.programme.index import build
from network.programme.rules import Programme, Usage, evaluate
from network.programme.tiers import DEFINITIONS

from .values import CAFE, NETWORK, SATURDAY_AFTERNOON, SHOP, TEHRAN, campaign, lines, purchase

# The real ladder: silver and above multiply the base points, so the tier effect is in play.
TIERED = Programme(zone=TEHRAN, network_party_id=NETWORK, tiers=DEFINITIONS)
TIERS = [None, *(d.code for d in DEFINITIONS)]

effects = st.one_of(
    st.builds(FixedPoints, st.integers(1, 300)),
    st.builds(PointsPerAmount, st.decimals("0.01", "5", places=2)),
    st.builds(Multiplier, st.decimals("1.1", "3", places=1)))
funders = st.sampled_from([split_funder((CAFE, 10_000)), split_funder((NETWORK, 10_000)),
                           split_funder((CAFE, 5_000), (NETWORK, 5_000))])


CONDITIONS = {
    "partners": [frozenset({CAFE}), frozenset({SHOP})],
    "categories": [frozenset({"coffee"}), frozenset({"pastry"})],
    "skus": [frozenset({"latte"})],
    "min_amount_minor": [500, 1000, 5000],
    "max_amount_minor": [999, 5000, 20_000],
    "tiers": [frozenset({"silver", "gold"}), frozenset({"blue"})],
    "segments": [frozenset({"students"})],
    "weekdays": [frozenset({5}), frozenset({0, 1})],
    "hours": [HourWindow(dt.time(9), dt.time(18)), HourWindow(dt.time(20), dt.time(2))],
    "channels": [frozenset({"app"}), frozenset({"in_store", "online"})],
    "first_at_partner": [True],
}
# Campaigns with one or two conditions, so that most of them match some lines of a batch and
# not others: what puts each part of the memo's keys to work.
conditions = st.lists(st.sampled_from(sorted(CONDITIONS)), max_size=2, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({n: st.sampled_from(CONDITIONS[n]) for n in names})
).map(lambda chosen: Conditions(**chosen))


@st.composite
def programmes(draw: st.DrawFn) -> list:
    return [campaign(id, effect=draw(effects), funder=draw(funders), conditions=draw(conditions),
                     priority=draw(st.integers(-1, 1)),
                     stacking=draw(st.sampled_from(["stackable", "exclusive"])),
                     limits=Limits(per_member_day=draw(st.none() | st.integers(1, 2)),
                                   budget_points=draw(st.none() | st.integers(1, 400))))
            for id in range(1, draw(st.integers(0, 7)) + 1)]


BASKETS = [(), lines(("latte", "coffee", 400), ("bun", "pastry", 600)),
           lines(("beans", "coffee", 2500)), lines(("bun", "pastry", 900))]


FIELDS = {
    "tier": st.sampled_from(TIERS),
    "segments": st.sampled_from([frozenset(), frozenset({"students"})]),
    "channel": st.sampled_from(["in_store", "app", "online"]),
    "basket": st.sampled_from(BASKETS),
    "first": st.booleans(),
    "amount": st.sampled_from([100, 499, 500, 999, 1000, 1001, 4999, 5000, 5001, 20_000,
                               20_001]) | st.integers(1, 30_000),
    "base": st.integers(0, 40),
    "used": st.dictionaries(st.integers(1, 7), st.integers(0, 2), max_size=3),
    "elsewhere": st.sampled_from([None, None, None, None, "partner", "moment"]),
}


@st.composite
def batch_lines(draw: st.DrawFn) -> list[dict[str, object]]:
    """Lines that repeat: each field takes one of two values drawn for the batch, so many lines
    differ from another in one field alone (what a memo's key must tell apart); now and then
    a line at another partner or moment (evaluated afresh)."""
    pools = {name: draw(st.lists(values, min_size=1, max_size=2))
             for name, values in FIELDS.items()}
    return [{name: draw(st.sampled_from(pool)) for name, pool in pools.items()}
            for _ in range(draw(st.integers(1, 60)))]


@settings(max_examples=200, deadline=None)
@given(programmes(), batch_lines(), st.dictionaries(st.integers(1, 7), st.integers(-5, 400)))
def test_each_line_gets_the_plan_evaluate_gives_it_alone(cs, batch, budget_left):
    index = build(cs)
    judge = BatchRules(index, TIERED, partner_id=CAFE, at=SATURDAY_AFTERNOON,
                       budget_left=budget_left)
    for n, line in enumerate(batch):
        fact = purchase(
            partner_id=SHOP if line["elsewhere"] == "partner" else CAFE,
            at=SATURDAY_AFTERNOON + (dt.timedelta(hours=7) if line["elsewhere"] == "moment"
                                     else dt.timedelta()),
            amount=Money(line["amount"], "EUR"), channel=line["channel"],
            lines=line["basket"], first_at_partner=line["first"])
        member = MemberState(n, line["tier"], line["segments"])
        usage = {c: Usage(day=u, week=u, month=u, campaign=u) for c, u in line["used"].items()}
        alone = evaluate(fact, member, index, base_points=line["base"], programme=TIERED,
                         usage=usage, budget_left=budget_left)
        assert judge.evaluate(fact, member, base_points=line["base"], usage=usage) == alone


def test_lines_of_one_shape_share_one_plan_and_an_amount_priced_effect_tells_them_apart():
    bonus = campaign(1, effect=Multiplier(Decimal("1.5")),
                     conditions=Conditions(min_amount_minor=5000))
    judge = BatchRules(build([bonus]), TIERED, partner_id=CAFE, at=SATURDAY_AFTERNOON)
    silver = MemberState(1, "silver")

    def plan(amount: int, base: int, c=judge):
        return c.evaluate(purchase(amount=Money(amount, "EUR")), silver, base_points=base)

    # Amounts on one side of the bound with the same base points: one plan, the same object.
    assert plan(6000, 60) is plan(7000, 60)
    assert plan(6000, 60).total == 60 + 30 + 15  # the multiplier's half, silver's quarter
    assert plan(4999, 60).total == 60 + 15  # below the bound: silver's alone
    per_amount = campaign(2, effect=PointsPerAmount(Decimal(1)))
    judge = BatchRules(build([per_amount]), TIERED, partner_id=CAFE, at=SATURDAY_AFTERNOON)
    assert plan(6000, 60, judge).total != plan(7000, 60, judge).total


def test_each_part_of_a_line_the_rules_read_tells_two_lines_apart():
    """One campaign reading one thing of the line, and two lines that differ in that alone:
    the batch gives each the plan evaluate gives it (a key missing that part would not)."""
    silver = MemberState(1, "silver")
    cases = [
        (Conditions(channels=frozenset({"app"})), {"channel": "app"}, {}),
        (Conditions(categories=frozenset({"pastry"})), {"lines": BASKETS[3]}, {}),
        (Conditions(first_at_partner=True), {"first_at_partner": True}, {}),
        (Conditions(segments=frozenset({"students"})), {}, {"segments": frozenset({"students"})}),
        (Conditions(tiers=frozenset({"gold"})), {}, {"tier": "gold"}),
        (Conditions(min_amount_minor=5000), {"amount": Money(5000, "EUR")}, {}),
        (Conditions(max_amount_minor=4999), {"amount": Money(4999, "EUR")}, {}),
    ]
    for condition, fact_change, member_change in cases:
        index = build([campaign(1, conditions=condition)])
        judge = BatchRules(index, TIERED, partner_id=CAFE, at=SATURDAY_AFTERNOON)
        # the plain line: below the minimum, above the maximum
        plain = purchase(amount=Money(6000 if condition.max_amount_minor else 3000, "EUR"))
        changed = purchase(**({"amount": plain.amount} | fact_change))
        member = dataclasses.replace(silver, **member_change)
        for fact, who in ((plain, silver), (changed, member)):
            assert judge.evaluate(fact, who, base_points=30) == evaluate(
                fact, who, index, base_points=30, programme=TIERED)
        assert judge.evaluate(plain, silver, base_points=30) != judge.evaluate(
            changed, member, base_points=30)
    daily = campaign(1, limits=Limits(per_member_day=1))
    index = build([daily])
    judge = BatchRules(index, TIERED, partner_id=CAFE, at=SATURDAY_AFTERNOON)
    fresh = judge.evaluate(purchase(), silver, base_points=30, usage={})
    used = judge.evaluate(purchase(), silver, base_points=30, usage={1: Usage(day=1)})
    assert [e.campaign_id for e in fresh.effects] == [None, 1]
    assert [s.reason for s in used.skipped] == ["LIMIT_DAY"]
