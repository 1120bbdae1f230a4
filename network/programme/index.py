"""The active campaigns, sorted and looked up by (trigger, partner) in one dict access.

Built once whenever the campaigns change (the store's job), then shared by every earn: the
common earn at a partner with no campaign of its own finds the network-wide list, usually
empty, without building or sorting anything. Lists are kept in `evaluation_order`, so the rules
never sort either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from network.programme.campaigns import Campaign, evaluation_order

_NONE: tuple[Campaign, ...] = ()


@dataclass(frozen=True, slots=True)
class _Slot:
    every_partner: tuple[Campaign, ...]  # campaigns without a partner condition
    by_partner: Mapping[int, tuple[Campaign, ...]]  # those plus the partner's own, merged


@dataclass(frozen=True, slots=True)
class CampaignIndex:
    slots: Mapping[tuple[str, str], _Slot]
    size: int

    def candidates(self, trigger: tuple[str, str], partner_id: int | None) -> tuple[Campaign, ...]:
        """The active campaigns a fact with this trigger key at this partner may match, in
        evaluation order. Conditions other than the partner (and the window) are not checked
        here."""
        slot = self.slots.get(trigger)
        if slot is None:
            return _NONE
        if partner_id is None:
            return slot.every_partner
        return slot.by_partner.get(partner_id, slot.every_partner)


def build(campaigns: Iterable[Campaign]) -> CampaignIndex:
    """Index the ACTIVE campaigns among `campaigns` (drafts, paused and ended ones never apply)."""
    active = [c for c in campaigns if c.status == "active"]
    by_trigger: dict[tuple[str, str], list[Campaign]] = {}
    for campaign in active:
        by_trigger.setdefault(campaign.trigger.key, []).append(campaign)
    slots = {}
    for key, group in by_trigger.items():
        every = [c for c in group if c.conditions.partners is None]
        partners = {p for c in group for p in (c.conditions.partners or ())}
        slots[key] = _Slot(
            tuple(evaluation_order(every)),
            {p: tuple(evaluation_order(every + [c for c in group if c.conditions.partners
                                                and p in c.conditions.partners]))
             for p in partners})
    return CampaignIndex(slots, len(active))


EMPTY = build(())
