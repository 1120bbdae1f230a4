"""Control totals: figures a finance person ticks off against the ledger.

Points consumed by kind (and reversed) come straight from the aggregated consumption rows;
`reconcile` compares them with the ledger's own wallet debits for the period, computed by a
different query, so a bug in either shows up as a named discrepancy rather than a wrong payout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from settlement.clearing import LINE_KINDS, ConsumptionTotal, ObligationLine
from settlement.netting import NettingResult


@dataclass(frozen=True, slots=True)
class ControlTotals:
    consumption_rows: int
    points_by_kind: dict[str, int]
    money_by_line_kind: dict[str, int]
    lines: int
    net_sum_minor: int
    gross_obligations_minor: int
    discrepancies: tuple[str, ...] = field(default=())


def consumption_bucket(kind: str, reversal: bool) -> str:
    """'redemption', 'redemption_reversal', 'donation', ... as used by the ledger check too."""
    return f"{kind}_reversal" if reversal else kind


def control_totals(
    totals: Iterable[ConsumptionTotal], lines: list[ObligationLine], netting: NettingResult
) -> ControlTotals:
    totals = list(totals)
    points: Counter[str] = Counter()
    for t in totals:
        points[consumption_bucket(t.kind, t.reversal)] += t.points
    money: Counter[str] = Counter({k: 0 for k in LINE_KINDS})
    for line in lines:
        money[line.kind] += line.amount_minor
    return ControlTotals(
        consumption_rows=sum(t.rows for t in totals),
        points_by_kind=dict(sorted(points.items())),
        money_by_line_kind=dict(sorted(money.items())),
        lines=len(lines),
        net_sum_minor=sum(p.net_minor for p in netting.positions),
        gross_obligations_minor=netting.gross_obligations_minor,
    )


def reconcile(controls: ControlTotals, ledger_points: Mapping[str, int]) -> ControlTotals:
    """Return the totals with a discrepancy per bucket where ledger and settlement disagree."""
    issues = []
    if controls.net_sum_minor != 0:
        issues.append(f"net positions sum to {controls.net_sum_minor}, not 0")
    for bucket in sorted(set(controls.points_by_kind) | set(ledger_points)):
        if bucket.startswith("clawback"):
            # A clawback moves no account of its own (its entry posts wallet -> issuance);
            # `pointsnet ledger verify` checks those rows lot by lot instead.
            continue
        ours, theirs = controls.points_by_kind.get(bucket, 0), ledger_points.get(bucket, 0)
        if ours != theirs:
            issues.append(f"{bucket}: settlement counts {ours} points, ledger {theirs}")
    return ControlTotals(
        controls.consumption_rows, controls.points_by_kind, controls.money_by_line_kind,
        controls.lines, controls.net_sum_minor, controls.gross_obligations_minor, tuple(issues),
    )
