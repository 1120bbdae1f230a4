"""The active campaigns, sorted, compiled and looked up by (trigger, partner) in one dict access.

Built once whenever the campaigns change (the store's job), then shared by every earn: the
common earn at a partner with no campaign of its own finds the network-wide tuple, usually
empty, without building or sorting anything. Tuples are kept in `evaluation_order` and each
campaign carries its compiled conditions (network/programme/matching.py), so the rules never
sort or interpret conditions per earn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from network.programme.campaigns import Campaign, evaluation_order
from network.programme.facts import BasketLine
from network.programme.matching import Predicate, compile_matcher, line_matcher


class Rule(NamedTuple):
    """A campaign with its conditions compiled: `matches` checks all but trigger, partner and
    tiers, `tiers` are the tiers it is for (None: any), `counts` says whether a basket line
    counts (None when the campaign names no category or sku, so the whole amount counts)."""

    campaign: Campaign
    matches: Predicate
    tiers: frozenset[str] | None
    counts: Callable[[BasketLine], bool] | None


def rule(campaign: Campaign) -> Rule:
    return Rule(campaign, compile_matcher(campaign), campaign.conditions.tiers,
                line_matcher(campaign))


_NONE: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class _Slot:
    every_partner: tuple[Rule, ...]  # campaigns without a partner condition
    by_partner: Mapping[int, tuple[Rule, ...]]  # those plus the partner's own, merged


@dataclass(frozen=True, slots=True)
class CampaignIndex:
    slots: Mapping[tuple[str, str], _Slot]
    size: int

    def candidates(self, trigger: tuple[str, str], partner_id: int | None) -> tuple[Rule, ...]:
        """The active campaigns a fact with this trigger key at this partner may match, in
        evaluation order. Their other conditions and windows are the rules' to check."""
        slot = self.slots.get(trigger)
        if slot is None:
            return _NONE
        if partner_id is None:
            return slot.every_partner
        return slot.by_partner.get(partner_id, slot.every_partner)


def build(campaigns: Iterable[Campaign]) -> CampaignIndex:
    """Index the ACTIVE campaigns among `campaigns` (drafts, paused and ended ones never apply)."""
    active = [c for c in campaigns if c.status == "active"]
    rules = {c.id: rule(c) for c in active}
    by_trigger: dict[tuple[str, str], list[Campaign]] = {}
    for campaign in active:
        by_trigger.setdefault(campaign.trigger.key, []).append(campaign)

    def ordered(group: list[Campaign]) -> tuple[Rule, ...]:
        return tuple(rules[c.id] for c in evaluation_order(group))

    slots = {}
    for key, group in by_trigger.items():
        every = [c for c in group if c.conditions.partners is None]
        partners = {p for c in group for p in (c.conditions.partners or ())}
        slots[key] = _Slot(ordered(every), {
            p: ordered(every + [c for c in group
                                if c.conditions.partners and p in c.conditions.partners])
            for p in partners})
    return CampaignIndex(slots, len(active))


EMPTY = build(())
