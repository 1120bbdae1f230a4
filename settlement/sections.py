"""A party's view of a run: statement lines by counterparty and kind, and the sections that
both the statement and a Stripe invoice are made of.

Signs are the party's: positive = owed to the party (receivable), negative = owed by it.
Lines across contract segments are summed (each was rounded once already).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from settlement.clearing import LINE_KINDS, ObligationLine
from settlement.terms import PartyId

TITLES: dict[tuple[str, str], str] = {
    ("redemption", "receivable"): "Other partners' points you took as payment",
    ("redemption", "payable"): "Your points redeemed at other partners",
    ("redemption", "own"): "Your own points redeemed with you (no transfer)",
    ("donation", "payable"): "Your points donated to charities",
    ("donation", "receivable"): "Donations received",
    ("expiry", "payable"): "Breakage share on your expired points",
    ("expiry", "receivable"): "Breakage received",
    ("fee", "payable"): "Network fees",
    ("fee", "receivable"): "Network fees received",
    ("adjustment", "receivable"): "Adjustments in your favour (reversals)",
    ("adjustment", "payable"): "Adjustments you owe (reversals)",
    ("adjustment", "own"): "Reversed own redemptions (no transfer)",
}


@dataclass(frozen=True, slots=True)
class StatementLine:
    counterparty_id: PartyId
    kind: str
    source_kind: str
    direction: str  # receivable | payable | own
    points: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Section:
    kind: str
    direction: str
    title: str
    points: int
    amount_minor: int


def statement_lines(lines: Iterable[ObligationLine], party_id: PartyId) -> list[StatementLine]:
    acc: dict[tuple[PartyId, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        if line.payer_party_id == line.payee_party_id == party_id:
            key, sign = (party_id, line.kind, line.source_kind, "own"), 1
        elif line.payee_party_id == party_id:
            key, sign = (line.payer_party_id, line.kind, line.source_kind, "receivable"), 1
        elif line.payer_party_id == party_id:
            key, sign = (line.payee_party_id, line.kind, line.source_kind, "payable"), -1
        else:
            continue
        acc[key][0] += line.points
        acc[key][1] += sign * line.amount_minor
    return [StatementLine(cp, kind, src, direction, pts, amount)
            for (cp, kind, src, direction), (pts, amount) in sorted(
                acc.items(), key=lambda kv: (kv[0][3] != "receivable", LINE_KINDS.index(kv[0][1]),
                                             kv[0][0], kv[0][2]))]


def sections(lines: Iterable[StatementLine]) -> list[Section]:
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        acc[(line.kind, line.direction)][0] += line.points
        acc[(line.kind, line.direction)][1] += line.amount_minor
    order = {"receivable": 0, "payable": 1, "own": 2}
    return [Section(kind, direction, TITLES[(kind, direction)], pts, amount)
            for (kind, direction), (pts, amount) in sorted(
                acc.items(), key=lambda kv: (order[kv[0][1]], LINE_KINDS.index(kv[0][0])))]
