"""One settlement computation from plain inputs: the pure heart of preview and close.

The database layer gathers the inputs (aggregated consumptions, contract versions, parties);
everything decided about money happens here, so it can be tested with plain objects and the
same inputs always give the same result and the same content hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from network.money import check_currency
from settlement.clearing import ConsumptionTotal, ObligationLine, clear
from settlement.controls import ControlTotals, control_totals
from settlement.errors import SettlementError
from settlement.hashing import content_hash
from settlement.netting import NettingResult, net
from settlement.period import Period
from settlement.terms import ContractTerms, PartyId, Segment, TermsBook


@dataclass(frozen=True, slots=True)
class RunInputs:
    period: Period
    currency: str
    time_zone: str
    segments: tuple[Segment, ...]
    totals: tuple[ConsumptionTotal, ...]
    terms: tuple[ContractTerms, ...]
    party_kinds: Mapping[PartyId, str]
    network_party_id: PartyId


@dataclass(frozen=True, slots=True)
class RunResult:
    inputs: RunInputs
    lines: tuple[ObligationLine, ...]
    netting: NettingResult
    controls: ControlTotals
    content_hash: str


def compute(inputs: RunInputs) -> RunResult:
    """Clear, net, total and hash. Raises SettlementError on bad inputs, computing nothing."""
    check_currency(inputs.currency)
    if inputs.party_kinds.get(inputs.network_party_id) != "network":
        raise SettlementError("NO_NETWORK_PARTY", "the network (hub) party is missing")
    lines = clear(inputs.totals, TermsBook(inputs.terms), list(inputs.segments),
                  inputs.party_kinds, inputs.network_party_id)
    netting = net(lines, inputs.network_party_id)
    controls = control_totals(inputs.totals, lines, netting)
    return RunResult(inputs, tuple(lines), netting, controls, hash_of(inputs, lines, netting))


def hash_of(inputs: RunInputs, lines: Iterable[ObligationLine], netting: NettingResult) -> str:
    """Hash inputs and results. Terms are limited to the versions some party actually used."""
    used = {t.issuer_party_id for t in inputs.totals} | {
        t.sink_party_id for t in inputs.totals if t.kind == "redemption"
    }
    return content_hash({
        "period": str(inputs.period),
        "currency": inputs.currency,
        "time_zone": inputs.time_zone,
        "segments": [[s.start, s.end] for s in inputs.segments],
        "totals": sorted(inputs.totals, key=lambda t: (t.issuer_party_id, t.sink_party_id or 0,
                                                       t.kind, t.reversal, t.segment)),
        "terms": sorted((t for t in inputs.terms if t.party_id in used),
                        key=lambda t: (t.party_id, t.effective_from)),
        "lines": list(lines),
        "netting": netting,
    })
