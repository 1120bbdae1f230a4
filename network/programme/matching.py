"""A campaign's window and conditions (but its tiers) compiled, once, into one predicate over
(fact, member, local time).

Why compile: an earn at a partner with campaigns asks every candidate "do you match?"; a
campaign sets two or three of its dozen conditions, so the predicate built here checks only
those, and the earn pays for what the programme uses, not for what it could. The index
(network/programme/index.py) builds the predicates when the campaigns change and has already
chosen the trigger and the partner, so neither is checked again here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal

from network.programme.campaigns import SALES_TRIGGERS, AttributeCondition, Campaign
from network.programme.facts import BasketLine, Fact, MemberState

Predicate = Callable[[Fact, MemberState, dt.datetime], bool]


def never(fact: Fact, member: MemberState, local: dt.datetime) -> bool:
    return False


def line_matcher(campaign: Campaign) -> Callable[[BasketLine], bool] | None:
    """Whether a basket line counts for the campaign; None when it names no category or sku."""
    categories, skus = campaign.conditions.categories, campaign.conditions.skus
    if categories is None and skus is None:
        return None
    categories, skus = categories or frozenset(), skus or frozenset()
    return lambda line: line.category in categories or line.sku in skus


def compile_matcher(campaign: Campaign) -> Predicate:
    """Every condition of `campaign` except trigger, partner and tiers, as one predicate.
    `local` is the fact's time in the network's zone, computed once per evaluation by the
    caller. The tier condition stays out so that one pass can judge a fact for every tier the
    member may hold (rules.evaluate_for_tiers): the caller checks `conditions.tiers` itself."""
    k = campaign.conditions
    checks: list[Predicate] = []
    add = checks.append
    starts, ends = campaign.starts_at, campaign.ends_at
    if ends is None:
        add(lambda f, m, local: starts <= f.at)
    else:
        add(lambda f, m, local: starts <= f.at < ends)
    if k.segments is not None:
        segments = k.segments
        add(lambda f, m, local: not segments.isdisjoint(m.segments))
    if k.weekdays is not None:
        weekdays = k.weekdays
        add(lambda f, m, local: local.weekday() in weekdays)
    if k.hours is not None:
        contains = k.hours.contains
        add(lambda f, m, local: contains(local.time()))
    sales = (k.channels, k.min_amount_minor, k.max_amount_minor, k.categories, k.skus)
    if any(v is not None for v in sales) or k.first_at_partner:
        if campaign.trigger.kind not in SALES_TRIGGERS:
            return never  # a fact that is not a sale has no amount, basket or channel
        _sales_checks(campaign, add)
    if k.attributes:
        if campaign.trigger.kind not in ("event", "lifecycle"):
            return never
        conditions = k.attributes
        add(lambda f, m, local: all(holds(a, f.attributes)  # type: ignore[union-attr]
                                    for a in conditions))
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def all_hold(fact: Fact, member: MemberState, local: dt.datetime) -> bool:
        for check in frozen:
            if not check(fact, member, local):
                return False
        return True

    return all_hold


def _sales_checks(campaign: Campaign, add: Callable[[Predicate], None]) -> None:
    k = campaign.conditions
    if k.channels is not None:
        channels = k.channels
        add(lambda f, m, local: f.channel in channels)  # type: ignore[union-attr]
    low, high = k.min_amount_minor, k.max_amount_minor
    if low is not None:
        add(lambda f, m, local: f.amount.amount_minor >= low)  # type: ignore[union-attr]
    if high is not None:
        add(lambda f, m, local: f.amount.amount_minor <= high)  # type: ignore[union-attr]
    counts = line_matcher(campaign)
    if counts is not None:
        add(lambda f, m, local: any(map(counts, f.lines)))  # type: ignore[union-attr]
    if k.first_at_partner:
        add(lambda f, m, local: getattr(f, "first_at_partner", False))


def holds(condition: AttributeCondition, attributes: Mapping[str, object]) -> bool:
    """An event attribute condition: present, equal to one of `one_of`, within the bounds."""
    if condition.key not in attributes:
        return False
    value = attributes[condition.key]
    # True == 1 in Python; an attribute `true` must not match one_of {1}, nor 1 match {True}.
    if condition.one_of is not None and not any(
            v == value and isinstance(v, bool) == isinstance(value, bool)
            for v in condition.one_of):
        return False
    if condition.at_least is None and condition.at_most is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return False  # a bound needs a number; "5" or True are not one
    number = Decimal(value)
    return ((condition.at_least is None or number >= condition.at_least)
            and (condition.at_most is None or number <= condition.at_most))
