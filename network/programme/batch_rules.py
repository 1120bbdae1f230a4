"""`rules.evaluate` for a batch's purchases, judged once per shape of line.

A batch's lines share their partner, their moment (the batch's clock reading) and the budgets
read before it, and mostly their channel, basket and tier: evaluating each line from scratch
matches every candidate campaign again (conditions, window, the time in the network's zone) and
prices every effect again, though most lines only differ in their amount. So a batch memoises
the two halves of the evaluation (`rules.matching`, then `rules.priced`), each on exactly what
it reads:

- the match, on the line's shape: the member's tier and segments, the channel, the basket, the
  first-purchase flag and which of the candidates' amount bounds the amount passes (a bisect
  into the sorted bounds, not the amount itself);
- the plan, on the shape plus what pricing reads: the base points, the currency, the member's
  usage of the candidates with member limits, and the amount itself only when an effect is
  priced from it (points per amount, a multiplier on matching basket lines).

Pure like the rules: no database, no clock; the memo lives as long as one batch's plan step.
The plans it answers are the very ones `rules.evaluate` answers for each line (shared, since a
Plan is immutable); tests/network/programme/test_batch_rules.py compares them over random
programmes and batches. A condition that reads more of a fact or a member than
`network/programme/matching.py` reads today must be added to `_shape` below.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from typing import Any

from network.programme.campaigns import FixedPoints, Limits, Multiplier
from network.programme.facts import MemberState, Purchase
from network.programme.index import CampaignIndex
from network.programme.rules import (
    NO_USAGE,
    Matched,
    Plan,
    Programme,
    Usage,
    evaluate,
    matching,
    priced,
)

PURCHASE = ("purchase", "")


class BatchRules:
    """`evaluate(fact, member, ...)` for many purchases at `partner_id` at the moment `at`, with
    one `budget_left` and no catalog offers (a campaign giving a reward or entries is claimed
    line by line, earn.with_programme). A fact at another partner or moment, or not a
    purchase, is evaluated afresh."""

    def __init__(self, campaigns: CampaignIndex, programme: Programme, *, partner_id: int,
                 at: dt.datetime, budget_left: Mapping[int, int] | None = None) -> None:
        self._campaigns, self._programme = campaigns, programme
        self._partner_id, self._at, self._budget_left = partner_id, at, budget_left
        candidates = campaigns.candidates(PURCHASE, partner_id)
        conditions = [rule.campaign.conditions for rule in candidates]
        self._lows = sorted({c.min_amount_minor for c in conditions
                             if c.min_amount_minor is not None})
        self._highs = sorted({c.max_amount_minor for c in conditions
                              if c.max_amount_minor is not None})
        # An effect priced from the amount (not only from the base points): the amount is
        # part of the plan's key. Only a fixed effect and a multiplier of the whole purchase
        # read nothing of it.
        self._amount_priced = any(
            not (isinstance(rule.campaign.effect, FixedPoints)
                 or isinstance(rule.campaign.effect, Multiplier) and rule.counts is None)
            for rule in candidates)
        self._limited = tuple(rule.campaign.id for rule in candidates
                              if _has_member_limits(rule.campaign.limits))
        self._matched: dict[tuple[Any, ...], tuple[Matched, ...]] = {}
        self._plans: dict[tuple[Any, ...], Plan] = {}

    def evaluate(self, fact: Purchase, member: MemberState, *, base_points: int,
                 usage: Mapping[int, Usage] | None = None) -> Plan:
        if (type(fact) is not Purchase or fact.at != self._at
                or fact.partner_id != self._partner_id):
            return evaluate(fact, member, self._campaigns, base_points=base_points,
                            programme=self._programme, usage=usage,
                            budget_left=self._budget_left)
        amount = fact.amount.amount_minor
        shape = (member.tier, member.segments, fact.channel, fact.lines, fact.first_at_partner,
                 bisect_right(self._lows, amount), bisect_left(self._highs, amount))
        key = (shape, base_points, fact.amount.currency,
               amount if self._amount_priced else None,
               tuple([usage.get(c, NO_USAGE) for c in self._limited]) if usage else ())
        plan = self._plans.get(key)
        if plan is None:
            if base_points < 0:
                raise ValueError(f"base_points cannot be negative, got {base_points}")
            matched = self._matched.get(shape)
            if matched is None:
                matched = self._matched[shape] = matching(
                    fact, member, (member.tier,), self._campaigns, self._programme)
            plan = self._plans[key] = priced(
                fact, (member.tier,), matched, base_points=base_points,
                programme=self._programme, usage=usage, budget_left=self._budget_left)[0]
        return plan


def _has_member_limits(limits: Limits) -> bool:
    return any(v is not None for v in (limits.per_member_day, limits.per_member_week,
                                       limits.per_member_month, limits.per_member_campaign))
