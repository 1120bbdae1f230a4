"""Property tests: for random consumptions and prices, netting sums to exactly zero and each
party's net equals what the obligation lines say it is owed minus what it owes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement.clearing import ConsumptionTotal
from settlement.computation import RunInputs, compute
from settlement.period import Period
from settlement.terms import ContractTerms, Segment

N = 1
PARTNERS = [2, 3, 4, 5, 6]
CHARITIES = [7, 8]
KINDS = {N: "network", **{p: "partner" for p in PARTNERS}, **{c: "charity" for c in CHARITIES}}
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)

price = st.decimals(min_value=0, max_value=5, places=4)
contract = st.builds(
    lambda party, c, bps, d, b, o: ContractTerms(party, START, c, bps, d, b, o),
    st.just(0), price, st.integers(0, 1000), price, price, price,
)


@st.composite
def totals(draw: st.DrawFn) -> list[ConsumptionTotal]:
    out: dict[tuple, ConsumptionTotal] = {}
    for _ in range(draw(st.integers(0, 25))):
        issuer = draw(st.sampled_from(PARTNERS))
        kind = draw(st.sampled_from(["redemption", "donation", "expiry"]))
        sink = {"redemption": st.sampled_from(PARTNERS), "donation": st.sampled_from(CHARITIES),
                "expiry": st.just(N)}[kind]
        reversal = kind == "redemption" and draw(st.booleans())
        points = draw(st.integers(1, 10**9)) * (-1 if reversal else 1)
        key = (issuer, draw(sink), kind, reversal)
        out[key] = ConsumptionTotal(*key, 0, points, 1)
    return list(out.values())


@settings(max_examples=200, deadline=None)
@given(totals(), st.lists(contract, min_size=len(PARTNERS), max_size=len(PARTNERS)))
def test_netting_sums_to_zero_and_matches_obligations(rows, contracts) -> None:
    terms = tuple(ContractTerms(p, *vars_(c)[1:]) for p, c in zip(PARTNERS, contracts, strict=True))
    result = compute(RunInputs(Period(2026, 10), "EUR", "UTC", (Segment(0, START, END),),
                               tuple(rows), terms, KINDS, N))
    positions = result.netting.positions
    assert sum(p.net_minor for p in positions) == 0
    expected: dict[int, int] = defaultdict(int)
    for line in result.lines:
        if line.payer_party_id != line.payee_party_id:
            expected[line.payee_party_id] += line.amount_minor
            expected[line.payer_party_id] -= line.amount_minor
    assert {p.party_id: p.net_minor for p in positions} == dict(expected)
    assert sum(max(p.net_minor, 0) for p in positions) == result.netting.netted_value_minor
    assert result.netting.netted_value_minor <= result.netting.gross_obligations_minor
    for line in result.lines:  # each line is its own value rounded once
        if line.source_kind != "cleared_value":
            assert abs(line.amount_minor - line.points * line.unit_price) <= Decimal("0.5")
    assert result.content_hash == compute(result.inputs).content_hash


def vars_(t: ContractTerms) -> tuple:
    return (t.party_id, t.effective_from, t.clearing_price_per_point, t.network_fee_bps,
            t.donation_value_per_point, t.breakage_price_per_point,
            t.own_redemption_fee_per_point)
