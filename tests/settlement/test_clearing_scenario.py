"""Hand-computed scenario on the pure domain: exact money per party, no database.

Figures and their arithmetic are in tests/settlement/scenario.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from settlement.clearing import ConsumptionTotal
from settlement.computation import RunInputs, RunResult, compute
from settlement.errors import SettlementError
from settlement.period import Period
from settlement.terms import segments_for
from tests.settlement.scenario import (
    NOVEMBER,
    NOVEMBER_NETS,
    OCTOBER,
    OCTOBER_GROSS,
    OCTOBER_NETS,
    PARTY_KINDS,
    TERMS,
    A,
    B,
    C,
    K,
    N,
    terms,
)


def run(period: str, rows, terms_=TERMS, segment_of=lambda row: 0) -> RunResult:
    p = Period.parse(period)
    start, end = p.bounds("UTC")
    totals = tuple(
        ConsumptionTotal(i, s, k, pts < 0, segment_of(row), pts, 1)
        for row in rows for (i, s, k, pts) in [row]
    )
    return compute(RunInputs(p, "EUR", "UTC", tuple(segments_for(start, end, terms_)), totals,
                             tuple(terms_), PARTY_KINDS, N))


def nets(result: RunResult) -> dict[int, int]:
    return {p.party_id: p.net_minor for p in result.netting.positions if p.net_minor}


def test_october_net_per_party_is_exact() -> None:
    result = run("2026-10", OCTOBER)
    assert nets(result) == OCTOBER_NETS
    assert sum(p.net_minor for p in result.netting.positions) == 0
    assert result.netting.gross_obligations_minor == OCTOBER_GROSS


def test_october_lines_round_once_half_even() -> None:
    lines = {(ln.payer_party_id, ln.payee_party_id, ln.kind, ln.source_kind): ln.amount_minor
             for ln in run("2026-10", OCTOBER).lines}
    assert lines[(A, C, "redemption", "redemption")] == 3500
    assert lines[(B, C, "redemption", "redemption")] == 52
    assert lines[(B, N, "fee", "own_redemption")] == 62
    assert lines[(A, N, "fee", "cleared_value")] == 195
    assert lines[(B, N, "fee", "cleared_value")] == 141
    assert lines[(C, N, "fee", "cleared_value")] == 25
    assert lines[(C, K, "donation", "donation")] == 801
    assert lines[(C, N, "expiry", "expiry")] == 83
    assert lines[(B, N, "expiry", "expiry")] == 0
    assert lines[(A, A, "redemption", "own_redemption")] == 0


def test_october_payment_counts_and_ratio() -> None:
    netting = run("2026-10", OCTOBER).netting
    assert netting.bilateral_payments == 9
    assert netting.netted_payments == 4          # A pays the hub; B, C and K are paid
    assert netting.netted_value_minor == 8794
    assert netting.netting_ratio == Decimal("0.7118")  # 1 - 8794 / 30515


def test_october_control_totals() -> None:
    controls = run("2026-10", OCTOBER).controls
    assert controls.points_by_kind == {
        "donation": 6_556, "expiry": 12_332, "redemption": 29_118,
    }
    assert controls.net_sum_minor == 0
    assert controls.money_by_line_kind["fee"] == 195 + 141 + 25 + 500 + 62


def test_reversal_in_a_later_month_is_a_negative_adjustment() -> None:
    result = run("2026-11", NOVEMBER)
    assert nets(result) == NOVEMBER_NETS
    kinds = {(ln.payer_party_id, ln.payee_party_id, ln.kind) for ln in result.lines}
    assert kinds == {(A, B, "adjustment"), (A, N, "fee")}
    assert result.controls.points_by_kind == {"redemption_reversal": -1_000}


def test_same_inputs_in_any_order_give_the_same_hash() -> None:
    assert run("2026-10", OCTOBER).content_hash == run("2026-10", OCTOBER[::-1]).content_hash
    assert run("2026-10", OCTOBER).content_hash != run("2026-11", OCTOBER).content_hash


def test_contract_change_mid_month_prices_each_segment_with_its_version() -> None:
    change = datetime(2026, 10, 16, tzinfo=UTC)
    new_b = terms(B, "2.00", 200, "1.00", "0", "0.05", since=change)
    rows = ((A, B, "redemption", 100), (A, B, "redemption", 200))
    result = run("2026-10", rows, TERMS + (new_b,), segment_of=lambda r: 0 if r[3] == 100 else 1)
    redemption = [ln.amount_minor for ln in result.lines if ln.kind == "redemption"]
    assert redemption == [95, 400]


def test_missing_contract_is_named() -> None:
    with pytest.raises(SettlementError) as err:
        run("2026-10", OCTOBER, terms_=TERMS[1:])
    assert err.value.code == "NO_CONTRACT" and "party 2" in err.value.message


def test_positive_reversal_is_rejected() -> None:
    p = Period.parse("2026-10")
    start, end = p.bounds("UTC")
    bad = ConsumptionTotal(A, B, "redemption", True, 0, 10, 1)
    inputs = RunInputs(p, "EUR", "UTC", tuple(segments_for(start, end, TERMS)), (bad,), TERMS,
                       PARTY_KINDS, N)
    with pytest.raises(SettlementError, match="BAD_REVERSAL"):
        compute(inputs)
    with pytest.raises(SettlementError, match="BAD_SINK"):
        compute(replace(inputs, totals=(ConsumptionTotal(A, K, "redemption", False, 0, 5, 1),)))


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-10", "2026/10", "october", ""])
def test_bad_period_format(text: str) -> None:
    with pytest.raises(SettlementError) as err:
        Period.parse(text)
    assert err.value.code == "BAD_PERIOD" and "YYYY-MM" in err.value.message


@pytest.mark.parametrize("text", ["２０２６-１０", "٢٠٢٦-١٠", "2026-１0"])
def test_only_ascii_digits_make_a_period(text: str) -> None:
    with pytest.raises(SettlementError) as err:
        Period.parse(text)
    assert err.value.code == "BAD_PERIOD"


@pytest.mark.parametrize("text", ["9999-12", "9999-01", "1999-12", "0000-01"])
def test_a_period_outside_the_settleable_years_is_named(text: str) -> None:
    with pytest.raises(SettlementError) as err:
        Period.parse(text)
    assert err.value.code == "PERIOD_OUT_OF_RANGE" and text in err.value.message


def test_the_last_settleable_period_has_bounds() -> None:
    start, end = Period.parse("9998-12").bounds("Pacific/Kiritimati")
    assert start < end


def test_period_bounds_follow_the_network_time_zone() -> None:
    start, end = Period.parse("2026-10").bounds("Europe/Berlin")
    assert start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # DST ends on 25 October
    assert Period.parse("2026-12").next() == Period(2027, 1)
    assert Period.parse("2027-01").previous() == Period(2026, 12)


def test_a_clawback_is_paid_by_the_issuer_whose_points_were_taken() -> None:
    # A reversed an earn whose points were spent and took 1,000 of B's points instead:
    # B pays A as if they were redeemed at A (A's clearing price 1.00), with no fee.
    # Points clawed back from A's own later credit owe nothing.
    result = run("2026-10", ((B, A, "clawback", 1_000), (A, A, "clawback", 300)))
    assert nets(result) == {A: 1000, B: -1000}
    (line,) = result.lines
    assert (line.kind, line.source_kind, line.amount_minor) == ("adjustment", "clawback", 1000)


def test_network_bonus_points_are_paid_for_by_the_network() -> None:
    # Bonus points (issued by the network) redeemed at B: the network pays B's clearing price
    # and no fee; the network's own expired bonus points owe nothing.
    result = run("2026-10", ((N, B, "redemption", 2_000), (N, N, "expiry", 500)))
    assert nets(result) == {B: 1900, N: -1900}
    assert [ln.kind for ln in result.lines] == ["redemption"]
