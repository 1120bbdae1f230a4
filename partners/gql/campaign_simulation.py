"""`simulateCampaign(definition, period)` for network staff (any role: it reads, writes nothing)
and `partner { simulateCampaign }` for partners (scope campaigns, their own sales only): a draft
replayed over a past month of real earns (partners/campaign_simulation.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import graphene
from graphene.types.generic import GenericScalar

from network.gql.context import RequestContext
from network.programme.simulation import Simulation
from partners import campaign_simulation
from partners.scopes import CAMPAIGNS


class SimulatedFunder(graphene.ObjectType):
    """What the draft would have cost one funder."""

    party_code = graphene.String(required=True)
    points = graphene.Int(required=True)
    clearing_price_per_point = graphene.Decimal(
        description="The funder's contract clearing price; null without a contract (the "
                    "network has none).")
    value = graphene.Decimal(description="points x clearing price, exact, in `currency`; null "
                                         "without a price.")
    currency = graphene.String(required=True)


class SkippedCount(graphene.ObjectType):
    reason = graphene.String(required=True, description="LIMIT_DAY, LIMIT_WEEK, LIMIT_MONTH, "
                                                        "LIMIT_CAMPAIGN, BUDGET_EXHAUSTED, "
                                                        "NO_POINTS; for a reward "
                                                        "REWARD_NOT_VISIBLE, REWARD_LIMIT, "
                                                        "REWARD_OUT_OF_STOCK; for entries "
                                                        "DRAW_LIMIT.")
    count = graphene.Int(required=True)


class SimulatedRewards(graphene.ObjectType):
    """The catalog rewards the draft would have issued (an issue_reward effect)."""

    reward_id = graphene.Int(required=True)
    honoured_by = graphene.String(required=True, description="The code of the partner that "
                                                             "honours the reward (the sink of "
                                                             "its points).")
    price_points = graphene.Int(required=True)
    count = graphene.Int(required=True, description="Rewards issued.")
    points = graphene.Int(required=True, description="count x price: what the funders issue "
                                                     "and the honouring partner takes.")
    stock = graphene.Int(description="The stock the replay started from (what is left now); "
                                      "null when unlimited.")
    stock_out_at = graphene.DateTime(description="When the last one would have gone; null if "
                                                 "the stock would have lasted.")


class SimulatedEntries(graphene.ObjectType):
    """The lottery entries the draft would have given in one draw (a lottery_entries effect)."""

    draw_code = graphene.String(required=True)
    entries = graphene.Int(required=True)
    members = graphene.Int(required=True)


class CampaignSimulation(graphene.ObjectType):
    """A draft campaign replayed over a past month: tiers are members' tiers now (an
    approximation), the draft's own window is set aside for the month."""

    period = graphene.String(required=True, description="YYYY-MM.")
    period_start = graphene.DateTime(required=True)
    period_end = graphene.DateTime(required=True, description="Exclusive.")
    earns_replayed = graphene.Int(required=True)
    members_reached = graphene.Int(required=True)
    times_applied = graphene.Int(required=True)
    points = graphene.Int(required=True)
    funders = graphene.List(graphene.NonNull(SimulatedFunder), required=True)
    budget_exhausted_at = graphene.DateTime(description="When the budget's last point would "
                                                        "have gone; null if it would not.")
    skipped = graphene.List(graphene.NonNull(SkippedCount), required=True)
    rewards = graphene.List(graphene.NonNull(SimulatedRewards), required=True)
    draws = graphene.List(graphene.NonNull(SimulatedEntries), required=True)

    @classmethod
    def of(cls, ctx: RequestContext, result: Simulation) -> CampaignSimulation:
        codes = ctx.db.read(campaign_simulation.party_codes,
                            {f.party_id for f in result.funders}
                            | {r.partner_id for r in result.rewards})
        p = result.period
        return cls(period=p.label, period_start=p.start, period_end=p.end,
                   earns_replayed=result.earns_replayed, members_reached=result.members_reached,
                   times_applied=result.times_applied, points=result.points,
                   funders=[SimulatedFunder(party_code=codes[f.party_id], points=f.points,
                                            clearing_price_per_point=_plain(f.price_per_point),
                                            value=_plain(f.value),
                                            currency=ctx.settings.currency)
                            for f in result.funders],
                   budget_exhausted_at=result.budget_exhausted_at,
                   skipped=[SkippedCount(reason=r, count=n) for r, n in result.skipped.items()],
                   rewards=[SimulatedRewards(reward_id=r.reward_id,
                                             honoured_by=codes[r.partner_id],
                                             price_points=r.price_points, count=r.count,
                                             points=r.points, stock=r.stock,
                                             stock_out_at=r.stock_out_at)
                            for r in result.rewards],
                   draws=[SimulatedEntries(draw_code=d.draw_code, entries=d.entries,
                                           members=d.members) for d in result.draws])


def _plain(value: Any) -> Any:
    """0.400000 (a Numeric column) as 0.4, 150.0 as 150 (not 1.5E+2); exact either way."""
    return None if value is None else Decimal(format(value.normalize(), "f"))


def simulate_field(description: str) -> graphene.Field:
    return graphene.Field(
        CampaignSimulation, required=True,
        definition=GenericScalar(required=True, description="The draft's JSON document."),
        period=graphene.String(required=True, description="YYYY-MM or last-month, in the "
                                                          "network's time zone."),
        description=description)


def simulate(ctx: RequestContext, definition: Any, period: str,
             partner_id: int | None = None) -> CampaignSimulation:
    result = campaign_simulation.run(ctx.db, definition, period,
                                     timezone=ctx.settings.timezone, partner_id=partner_id,
                                     now=ctx.now)
    return CampaignSimulation.of(ctx, result)


class Query(graphene.ObjectType):
    simulate_campaign = simulate_field(
        "Replay a draft campaign over a past month of real earns (staff).")

    def resolve_simulate_campaign(root, info: graphene.ResolveInfo, definition: Any,
                                  period: str) -> CampaignSimulation:
        info.context.staff()
        return simulate(info.context, definition, period)


def partner_simulation(ctx: RequestContext, definition: Any, period: str
                       ) -> CampaignSimulation:
    """The partner's own: only its sales are replayed."""
    partner = ctx.partner(CAMPAIGNS)
    return simulate(ctx, definition, period, partner_id=partner.party_id)
