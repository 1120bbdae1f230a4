"""Clearing: turn consumption totals and contract terms into obligation lines.

Every line reads "payer owes payee amount", payer is always the issuer of the points:
- redemption: issuer -> redeeming partner, points x the *redeemer's* clearing price (what a
  partner receives for taking back another issuer's points);
- own redemption: issuer == redeemer, no transfer (a zero line kept for the statement) and a
  fee line issuer -> network at the issuer's own-redemption fee per point;
- donation: issuer -> charity, points x the issuer's donation value per point;
- expiry: issuer -> network, points x the issuer's breakage price (possibly zero);
- fee: issuer -> network, network_fee_bps of the issuer's cleared value (redemptions at other
  partners net of their reversals) per segment;
- adjustment: a reversal booked in this period (negative points), priced like its source kind
  with the terms in force when the reversal was booked. Closed periods never change, so a
  late reversal is settled here, as a negative line;
- clawback (an adjustment too): a partner reversed an earn whose points were already spent, and
  took the shortfall from the member's points of another issuer (or from a later credit): that
  issuer pays the reversing partner as if the points were redeemed there, with no fee. Points
  going back to their own issuer owe nothing.
Points issued by the network itself (bonuses) are the network's to pay for: redeemed at a
partner, the network pays that partner's clearing price; donated, it pays the donation value of
the network's own contract; expired, nothing (it would pay itself). The network pays no fee.
Each line is rounded once, half-even; totals elsewhere are sums of these integers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from network.money import round_half_even
from settlement.errors import SettlementError
from settlement.terms import ContractTerms, PartyId, Segment, TermsBook

# What each consumption kind settlement clears pays, by the kind of its sink party. A new kind
# (a reward, a lottery entry of its own) is one more row here and its pricing in `clear`; until
# then a row of it stops the run (BAD_CONSUMPTION_KIND) rather than being left out unbilled.
SINK_KINDS = {"redemption": "partner", "donation": "charity", "expiry": "network",
              "clawback": "partner"}
CONSUMPTION_KINDS = tuple(SINK_KINDS)
# Kinds that move points between members with no party to settle with: read and set aside.
UNSETTLED_KINDS = frozenset({"transfer"})
LINE_KINDS = ("redemption", "donation", "expiry", "fee", "adjustment")


@dataclass(frozen=True, slots=True)
class ConsumptionTotal:
    """Aggregated consumption rows: one per (issuer, sink, kind, reversal, segment)."""

    issuer_party_id: PartyId
    sink_party_id: PartyId | None
    kind: str
    reversal: bool
    segment: int
    points: int
    rows: int


@dataclass(frozen=True, slots=True)
class ObligationLine:
    """One rounded obligation. `basis` is what the price applied to (points or minor units)."""

    payer_party_id: PartyId
    payee_party_id: PartyId
    kind: str
    source_kind: str
    segment: int
    points: int
    unit_price: Decimal
    basis: int
    amount_minor: int

    @property
    def is_transfer(self) -> bool:
        """False for own redemptions: a party never pays itself."""
        return self.payer_party_id != self.payee_party_id


def _line(payer: PartyId, payee: PartyId, kind: str, source: str, seg: int,
          points: int, price: Decimal, basis: int, value: Decimal) -> ObligationLine:
    return ObligationLine(payer, payee, kind, source, seg, points, price, basis,
                          round_half_even(value))


def clear(
    totals: Iterable[ConsumptionTotal],
    terms: TermsBook,
    segments: list[Segment],
    party_kinds: Mapping[PartyId, str],
    network_party_id: PartyId,
) -> list[ObligationLine]:
    """Price every consumption total; raise before producing anything if an input is wrong."""
    lines: list[ObligationLine] = []
    cleared: dict[tuple[PartyId, int], list[int]] = defaultdict(lambda: [0, 0])
    for t in sorted(totals, key=_total_key):
        _check_total(t, party_kinds, len(segments))
        at = segments[t.segment].start
        by_network = t.issuer_party_id == network_party_id
        kind = "adjustment" if t.reversal else t.kind
        if t.kind == "clawback":
            if t.sink_party_id == t.issuer_party_id:
                continue
            price = terms.at(t.sink_party_id, at, role="clawing-back partner"
                             ).clearing_price_per_point
            lines.append(_line(t.issuer_party_id, t.sink_party_id, "adjustment", "clawback",
                               t.segment, t.points, price, t.points, t.points * price))
        elif t.kind == "expiry" and by_network:
            continue  # the network's own expired bonus points: it would owe itself
        elif t.kind == "redemption" and t.sink_party_id == t.issuer_party_id:
            lines.append(_line(t.issuer_party_id, t.issuer_party_id, kind, "own_redemption",
                               t.segment, t.points, Decimal(0), t.points, Decimal(0)))
            price = _issuer_terms(terms, t, at).own_redemption_fee_per_point
            lines.append(_line(t.issuer_party_id, network_party_id, "fee", "own_redemption",
                               t.segment, t.points, price, t.points, t.points * price))
        elif t.kind == "redemption":
            price = terms.at(t.sink_party_id, at, role="redeeming partner").clearing_price_per_point
            line = _line(t.issuer_party_id, t.sink_party_id, kind, "redemption", t.segment,
                         t.points, price, t.points, t.points * price)
            lines.append(line)
            if not by_network:
                acc = cleared[(t.issuer_party_id, t.segment)]
                acc[0] += line.amount_minor
                acc[1] += line.points
        elif t.kind == "donation":
            price = _issuer_terms(terms, t, at).donation_value_per_point
            lines.append(_line(t.issuer_party_id, t.sink_party_id, kind, "donation", t.segment,
                               t.points, price, t.points, t.points * price))
        else:
            price = _issuer_terms(terms, t, at).breakage_price_per_point
            payee = t.sink_party_id if t.sink_party_id is not None else network_party_id
            lines.append(_line(t.issuer_party_id, payee, kind, "expiry", t.segment,
                               t.points, price, t.points, t.points * price))
    for (issuer_id, seg), (value, points) in sorted(cleared.items()):
        if value == 0 and points == 0:
            continue
        bps = terms.at(issuer_id, segments[seg].start, role="issuer").network_fee_bps
        lines.append(_line(issuer_id, network_party_id, "fee", "cleared_value", seg, points,
                           Decimal(bps), value, Decimal(value) * bps / 10_000))
    return sorted(lines, key=line_key)


def _issuer_terms(terms: TermsBook, t: ConsumptionTotal, at: datetime) -> ContractTerms:
    """Looked up only where a price needs it: the network has no contract unless it donates."""
    return terms.at(t.issuer_party_id, at, role="issuer")


def _check_total(t: ConsumptionTotal, party_kinds: Mapping[PartyId, str], n_segments: int) -> None:
    if t.kind not in CONSUMPTION_KINDS:
        raise SettlementError("BAD_CONSUMPTION_KIND", f"unknown consumption kind {t.kind!r}")
    if party_kinds.get(t.issuer_party_id) not in ("partner", "network"):
        raise SettlementError("BAD_ISSUER",
                              f"issuer {t.issuer_party_id} is neither a partner nor the network")
    expected_sink = SINK_KINDS[t.kind]
    if t.sink_party_id is None and t.kind != "expiry" or (
        t.sink_party_id is not None and party_kinds.get(t.sink_party_id) != expected_sink
    ):
        raise SettlementError(
            "BAD_SINK", f"{t.kind} sink {t.sink_party_id} is not a {expected_sink}"
        )
    if t.reversal != (t.points < 0) and t.points != 0:
        raise SettlementError(
            "BAD_REVERSAL",
            f"{t.kind} {t.issuer_party_id}->{t.sink_party_id}: reversal rows must be negative "
            f"and only reversal rows may be negative (got {t.points} points)",
        )
    if not 0 <= t.segment < n_segments:
        raise SettlementError("BAD_SEGMENT", f"segment {t.segment} outside the period")


def _total_key(t: ConsumptionTotal) -> tuple:
    return (t.issuer_party_id, -1 if t.sink_party_id is None else t.sink_party_id,
            t.kind, t.reversal, t.segment)


def line_key(line: ObligationLine) -> tuple:
    """The canonical order of lines (and so of hashes and statements)."""
    return (line.payer_party_id, line.payee_party_id, LINE_KINDS.index(line.kind),
            line.source_kind, line.segment)
