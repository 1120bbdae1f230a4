"""Partner contract terms as settlement sees them, and which version applies when.

Contracts are versioned by `effective_from`; a period may straddle a change. The period is
therefore cut into *segments* at every change inside it, consumptions are aggregated per
segment, and each segment is priced with the versions in force at its start. Without a
change (the usual case) there is exactly one segment: the whole month.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from settlement.errors import SettlementError

PartyId = int


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """The economics of one contract version (prices in minor units per point)."""

    party_id: PartyId
    effective_from: datetime
    clearing_price_per_point: Decimal
    network_fee_bps: int
    donation_value_per_point: Decimal
    breakage_price_per_point: Decimal
    own_redemption_fee_per_point: Decimal


@dataclass(frozen=True, slots=True)
class Segment:
    """A half-open UTC interval of the period priced with one set of contract versions."""

    index: int
    start: datetime
    end: datetime


def segments_for(start: datetime, end: datetime, terms: Iterable[ContractTerms]) -> list[Segment]:
    """Cut [start, end) at every contract `effective_from` strictly inside it."""
    cuts = sorted({t.effective_from for t in terms if start < t.effective_from < end})
    edges = [start, *cuts, end]
    return [Segment(i, edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


class TermsBook:
    """All contract versions, answering 'which terms did party P have at instant T?'."""

    def __init__(self, terms: Iterable[ContractTerms]) -> None:
        self._by_party: dict[PartyId, list[ContractTerms]] = {}
        for t in sorted(terms, key=lambda t: (t.party_id, t.effective_from)):
            self._by_party.setdefault(t.party_id, []).append(t)

    def at(self, party_id: PartyId, instant: datetime, *, role: str) -> ContractTerms:
        """The version in force at `instant`; NO_CONTRACT names the party and the role."""
        versions = self._by_party.get(party_id, [])
        idx = bisect.bisect_right([v.effective_from for v in versions], instant) - 1
        if idx < 0:
            raise SettlementError(
                "NO_CONTRACT",
                f"party {party_id} has no contract in force at {instant.isoformat()} "
                f"(needed as {role})",
                field="contracts",
            )
        return versions[idx]

    def versions(self) -> list[ContractTerms]:
        return [t for versions in self._by_party.values() for t in versions]
