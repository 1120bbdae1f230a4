"""Multilateral netting through the hub as central counterparty.

Instead of every payer paying every payee (bilateral settlement), each party pays the hub or
is paid by the hub exactly once: its net position = everything it is owed minus everything it
owes. Because every line is counted once as receivable and once as payable, the positions sum
to exactly zero in integer minor units. The network party *is* the hub: its position is the
network's fee and breakage income and needs no payment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from settlement.clearing import ObligationLine
from settlement.terms import PartyId


@dataclass(frozen=True, slots=True)
class NetPosition:
    """Receivable and payable are sums of rounded lines; net = receivable - payable."""

    party_id: PartyId
    receivable_minor: int
    payable_minor: int
    net_minor: int


@dataclass(frozen=True, slots=True)
class NettingResult:
    positions: tuple[NetPosition, ...]
    gross_obligations_minor: int
    bilateral_payments: int
    bilateral_value_minor: int
    netted_payments: int
    netted_value_minor: int
    netting_ratio: Decimal

    def position(self, party_id: PartyId) -> NetPosition:
        for p in self.positions:
            if p.party_id == party_id:
                return p
        return NetPosition(party_id, 0, 0, 0)


def net(lines: Iterable[ObligationLine], hub_party_id: PartyId) -> NettingResult:
    """Net the lines. Gross = sum over directed (payer, payee) cells of |cell|."""
    cells: dict[tuple[PartyId, PartyId], int] = defaultdict(int)
    receivable: dict[PartyId, int] = defaultdict(int)
    payable: dict[PartyId, int] = defaultdict(int)
    for line in lines:
        if not line.is_transfer:
            continue
        cells[(line.payer_party_id, line.payee_party_id)] += line.amount_minor
        payable[line.payer_party_id] += line.amount_minor
        receivable[line.payee_party_id] += line.amount_minor
    parties = sorted(set(receivable) | set(payable))
    positions = tuple(
        NetPosition(p, receivable[p], payable[p], receivable[p] - payable[p]) for p in parties
    )
    pairs: dict[tuple[PartyId, PartyId], int] = defaultdict(int)
    for (payer, payee), amount in cells.items():
        a, b = min(payer, payee), max(payer, payee)
        pairs[(a, b)] += amount if payer == a else -amount
    gross = sum(abs(v) for v in cells.values())
    netted = [p for p in positions if p.net_minor != 0 and p.party_id != hub_party_id]
    netted_value = sum(p.net_minor for p in positions if p.net_minor > 0)
    ratio = (
        (1 - Decimal(netted_value) / Decimal(gross)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
        if gross else Decimal("0.0000")
    )
    return NettingResult(
        positions=positions,
        gross_obligations_minor=gross,
        bilateral_payments=sum(1 for v in pairs.values() if v != 0),
        bilateral_value_minor=sum(abs(v) for v in pairs.values()),
        netted_payments=len(netted),
        netted_value_minor=netted_value,
        netting_ratio=ratio,
    )


def explain(bilateral_payments: int, netted_payments: int, gross_minor: int,
            netted_value_minor: int, money: Callable[[int], str]) -> str:
    """The netting figures in words, for staff reading a run summary.

    A central counterparty does not always mean fewer payments: if A owes both B and C, two
    bilateral payments become three through the hub (A pays the hub, the hub pays B and C),
    and nothing cancels out. Saying so beats a bare "ratio 0" or "2 -> 3", which read like
    a bug.
    """
    if gross_minor == 0:
        return "nothing to settle: no party owes another in this period"
    moved = (f"the hub moves {money(netted_value_minor)} of {money(gross_minor)} "
             "gross obligations")
    saved = gross_minor - netted_value_minor
    value = (f"{moved}; {money(saved)} cancels out between parties" if saved else
             f"{moved}; nothing cancels out, because no party is both owed and owing")
    bilateral, hub = _payments(bilateral_payments), _payments(netted_payments)
    bilateral += " bilaterally " + ("becomes" if bilateral_payments == 1 else "become")
    if netted_payments < bilateral_payments:
        count = (f"through the hub, {bilateral} {hub}: each party pays "
                 "the hub or is paid by it once")
    elif netted_payments == bilateral_payments:
        count = f"through the hub, {hub}, as many as bilateral settlement would need"
    else:
        count = (f"through the hub, {bilateral} {hub}: more, not fewer, "
                 "because a payment from one party to another now goes to the hub and out "
                 "again, and the hub pays each party owed money on its own")
    return f"{count}; {value}"


def _payments(n: int) -> str:
    return f"{n} payment" if n == 1 else f"{n} payments"
