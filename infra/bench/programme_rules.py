"""Programme rules benchmark: evaluations/s of `rules.evaluate` with 50 active campaigns and with
none, tiers on in both, in the same run; prints both and their ratio.

    .venv/bin/python -m infra.bench.programme_rules [--evaluations 20000] [--rounds 5]

Pure CPU, no database: what the earn's plan step adds per earn. The 50 campaigns are spread as a
real programme would be: 10 partners with 4 campaigns each (categories, tiers, weekdays and
hours, channel, an exclusive one with member limits, split funders, budgets) and 10 network-wide
ones (purchase multipliers for tiers, and event and lifecycle campaigns that a purchase never
looks at). Purchases come from random partners, members and tiers, with 3-line baskets; the same
purchases are then measured at a partner with no campaign of its own (only the network-wide
ones apply). Prints figures, asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from network.money import Money
from network.programme.campaigns import (
    Campaign,
    Conditions,
    FixedPoints,
    HourWindow,
    Limits,
    Multiplier,
    PointsPerAmount,
    Trigger,
    sole_funder,
    split_funder,
    tiers_from,
)
from network.programme.facts import BasketLine, MemberState, Purchase
from network.programme.index import EMPTY, CampaignIndex, build
from network.programme.rules import Programme, Usage, evaluate
from network.programme.tiers import DEFINITIONS

NETWORK = 1
PARTNERS = list(range(10, 20))
CATEGORIES = ["coffee", "beans", "pastry", "grocery", "pharmacy", "phone"]
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def fifty_campaigns() -> list[Campaign]:
    made: list[Campaign] = []

    def add(**fields) -> None:  # type: ignore[no-untyped-def]
        n = len(made) + 1
        made.append(Campaign(**{"id": n, "code": f"c{n}", "name_en": f"C{n}", "name_fa": f"ک{n}",
                                "trigger": Trigger("purchase"), "starts_at": START,
                                "status": "active", **fields}))

    for p in PARTNERS:
        mine = frozenset({p})
        add(effect=PointsPerAmount(Decimal(5)), funder=sole_funder(p),
            conditions=Conditions(partners=mine, categories=frozenset(CATEGORIES[:2])))
        add(effect=Multiplier(Decimal(2)), funder=split_funder((p, 5_000), (NETWORK, 5_000)),
            conditions=Conditions(partners=mine, weekdays=frozenset({3, 4}),
                                  tiers=tiers_from(DEFINITIONS, "silver")),
            limits=Limits(budget_points=1_000_000))
        add(effect=FixedPoints(50), funder=sole_funder(p), stacking="exclusive", priority=5,
            conditions=Conditions(partners=mine, hours=HourWindow(dt.time(7), dt.time(10)),
                                  channels=frozenset({"in_store"}), min_amount_minor=500),
            limits=Limits(per_member_day=1, per_member_month=10))
        add(effect=FixedPoints(100), funder=sole_funder(p),
            conditions=Conditions(partners=mine, first_at_partner=True))
    for tier in ("gold", "platinum"):
        add(effect=Multiplier(Decimal("1.5")), funder=sole_funder(NETWORK),
            conditions=Conditions(tiers=frozenset({tier})))
    add(effect=PointsPerAmount(Decimal(1)), funder=sole_funder(NETWORK),
        conditions=Conditions(segments=frozenset({"students"})), limits=Limits(per_member_week=3))
    for name in ("review", "survey_completed", "social_share", "app_install"):
        add(trigger=Trigger("event", name), effect=FixedPoints(20), funder=sole_funder(NETWORK))
    for name in ("enrolled", "birthday", "referral_converted"):
        add(trigger=Trigger("lifecycle", name), effect=FixedPoints(200),
            funder=sole_funder(NETWORK))
    assert len(made) == 50
    return made


def facts(count: int, seed: int = 7) -> list[tuple[Purchase, MemberState]]:
    rng = random.Random(seed)
    tiers = [d.code for d in DEFINITIONS]
    made = []
    for i in range(count):
        lines = tuple(BasketLine(f"sku-{rng.randrange(100)}", rng.choice(CATEGORIES), 1,
                                 rng.randrange(100, 2_000)) for _ in range(3))
        at = START + dt.timedelta(minutes=rng.randrange(60 * 24 * 180))
        purchase = Purchase(rng.choice(PARTNERS), i, Money(sum(x.amount_minor for x in lines),
                                                           "EUR"), at, lines=lines,
                            first_at_partner=rng.random() < 0.05)
        member = MemberState(i, rng.choice(tiers),
                             frozenset({"students"}) if rng.random() < 0.2 else frozenset())
        made.append((purchase, member))
    return made


def rate(index: CampaignIndex, programme: Programme, work: list[tuple[Purchase, MemberState]],
         rounds: int) -> tuple[float, float]:
    """Best evaluations/s over `rounds` passes, and the mean effects per evaluation."""
    usage = {3: Usage(day=1, week=1, month=1, campaign=1)}  # campaign 3 used today by everyone
    budget_left = {2: 900_000}
    best, effects = 0.0, 0
    for _ in range(rounds):
        effects = 0
        start = time.perf_counter()
        for purchase, member in work:
            plan = evaluate(purchase, member, index, base_points=purchase.amount.amount_minor // 10,
                            programme=programme, usage=usage, budget_left=budget_left)
            effects += len(plan.effects)
        best = max(best, len(work) / (time.perf_counter() - start))
    return best, effects / len(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tiers = tuple(dataclasses.replace(d, earn_multiplier=Decimal(m))
                  for d, m in zip(DEFINITIONS, ("1", "1.25", "1.5", "2"), strict=True))
    programme = Programme(zone=ZoneInfo("Asia/Tehran"), network_party_id=NETWORK, tiers=tiers)
    work = facts(args.evaluations)
    built = time.perf_counter()
    index = build(fifty_campaigns())
    built = time.perf_counter() - built
    off, off_effects = rate(EMPTY, programme, work, args.rounds)
    on, on_effects = rate(index, programme, work, args.rounds)
    elsewhere = [(dataclasses.replace(p, partner_id=99), m) for p, m in work]
    other, other_effects = rate(index, programme, elsewhere, args.rounds)
    print(f"index of {index.size} active campaigns built in {built * 1e3:.2f} ms")
    print(f"0 campaigns (tiers on):  {off:>10,.0f} evaluations/s  {1e6 / off:6.2f} us each  "
          f"{off_effects:.2f} effects/evaluation")
    print(f"50 campaigns (tiers on): {on:>10,.0f} evaluations/s  {1e6 / on:6.2f} us each  "
          f"{on_effects:.2f} effects/evaluation")
    print(f"ratio 50/0: {on / off:.2f}  (adds {1e6 / on - 1e6 / off:.2f} us per purchase)")
    print(f"50 campaigns, at a partner with none of its own: {other:,.0f} evaluations/s, "
          f"{1e6 / other:.2f} us each, {other_effects:.2f} effects/evaluation, ratio to 0: "
          f"{other / off:.2f}")


if __name__ == "__main__":
    main()
