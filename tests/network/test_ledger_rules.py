"""The ledger's rules as pure functions (network/ledger/rules.py): plain values, no database.

The operations that use them are tested end to end against SQLite and PostgreSQL in
test_ledger_operations.py and test_ledger_properties.py; here each rule's arithmetic on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from network.ledger import rules
from network.ledger.errors import (
    AlreadyReversed,
    InvalidInput,
    MemberNotFound,
    ReversalExceedsOriginal,
)
from network.ledger.rules import BulkLine, Lot, Take

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def lot(lot_id: int, remaining: int, issuer: int = 1) -> Lot:
    return Lot(lot_id, issuer, remaining, T0, None)


# --- vesting ---------------------------------------------------------------------------------

def test_a_lot_vests_now_by_default_and_later_when_asked() -> None:
    assert rules.vesting(None, None, T0) == T0
    later = T0 + timedelta(days=3)
    assert rules.vesting(later, None, T0) == later


def test_a_lot_that_would_expire_before_it_vests_is_refused() -> None:
    assert rules.vesting(T0 + timedelta(days=3), T0 + timedelta(days=3), T0) is None
    assert rules.vesting(None, T0, T0) is None  # expiring the very moment it is credited
    with pytest.raises(InvalidInput) as refused:
        rules.checked_vesting(None, T0 - timedelta(seconds=1), T0)
    assert refused.value.field == "expiresAt"


# --- a batch's plan --------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    balance: int
    held: int
    debt: int


def bulk(index: int, member_id: int, points: int) -> BulkLine:
    return BulkLine(index, f"k#{index}", member_id, points, T0, T0 + timedelta(days=700),
                    None, {}, {"n": index})


def test_a_batch_keeps_a_running_balance_per_member_in_input_order() -> None:
    lines = [bulk(0, 7, 10), bulk(1, 8, 5), bulk(2, 7, 30), bulk(3, 9, 1), bulk(4, 10, 2)]
    plan = rules.plan_batch(lines, {7: Row(100, 4, 0), 8: Row(0, 0, 0), 10: Row(-20, 0, 20)},
                            digest=lambda line: f"hash-{line.index}", at=T0)
    assert [(b.line.index, b.balance, b.held, b.digest) for b in plan.bookings] == [
        (0, 110, 4, "hash-0"), (1, 5, 0, "hash-1"), (2, 140, 4, "hash-2")]
    assert [line.index for line in plan.general] == [4]  # booked line by line, debt first
    assert list(plan.refused) == [3]
    assert isinstance(plan.refused[3], MemberNotFound)


def test_the_plan_fixes_each_lots_dates_in_utc_and_refuses_one_that_expires_first() -> None:
    tehran = timezone(timedelta(hours=3, minutes=30))
    asked = BulkLine(0, "k#0", 7, 10, None, datetime(2027, 3, 1, 15, 30, tzinfo=tehran), None,
                     None)
    late = BulkLine(1, "k#1", 7, 10, T0 + timedelta(days=9), T0 + timedelta(days=2), None, None)
    plan = rules.plan_batch([asked, late], {7: Row(0, 0, 0)}, digest=lambda line: "h", at=T0)
    [booking] = plan.bookings
    assert booking.vests_at == T0  # vests when booked
    assert booking.expires_at == datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert booking.expires_at.utcoffset() == timedelta(0)
    assert isinstance(plan.refused[1], InvalidInput) and plan.refused[1].field == "expiresAt"


class Parts:
    """Programme parts, as far as the plan sees them: that there are some, to be claimed under
    the member's lock."""

    one_statement = None
    batch_parts = None

    def claim(self, *_: object) -> tuple[()]:
        return ()

    def record(self, *_: object) -> None:
        return None


def test_a_member_with_programme_parts_on_any_line_books_every_line_line_by_line() -> None:
    with_parts = BulkLine(1, "k#1", 7, 10, T0, None, None, None, extras=Parts())
    lines = [bulk(0, 7, 5), with_parts, bulk(2, 8, 3), bulk(3, 7, 1)]
    plan = rules.plan_batch(lines, {7: Row(0, 0, 0), 8: Row(4, 0, 0)},
                            digest=lambda line: "h", at=T0)
    assert [line.index for line in plan.general] == [0, 1, 3]  # in input order
    assert [(b.line.index, b.balance) for b in plan.bookings] == [(2, 7)]


def test_a_batch_line_booked_in_bulk_answers_as_a_single_earn_would() -> None:
    booking = rules.Booking(bulk(0, 7, 10), "hash", balance=110, held=4, vests_at=T0,
                            expires_at=None)
    receipt = rules.receipt_of(booking, entry_id=31, lot_id=41, booked_at=T0.isoformat(),
                                issuer_id=3)
    assert receipt.as_dict() == {"entry_id": 31, "kind": "earn", "member_id": 7, "points": 10,
                                 "booked_at": T0.isoformat(), "balance": 110, "held": 4,
                                 "hold_id": None, "lot_id": 41, "debt": 0}


def test_a_batch_line_hashes_what_a_single_earn_hashes() -> None:
    line = bulk(0, 7, 10)
    assert line.params(issuer_id=3) == rules.request_params(
        issuer_id=3, member_id=7, kind="earn", request={"n": 0})


# --- spending --------------------------------------------------------------------------------

def test_fifo_takes_lots_in_the_order_given_until_the_points_are_covered() -> None:
    takes = rules.fifo([lot(1, 5), lot(2, 10), lot(3, 7)], 12)
    assert [(t.lot.id, t.points) for t in takes] == [(1, 5), (2, 7)]
    with pytest.raises(AssertionError):
        rules.fifo([lot(1, 5)], 6)


def test_debts_are_repaid_oldest_first_from_each_credit_in_turn() -> None:
    debts = [(90, 2, -8), (91, 3, -5)]  # (debt lot, creditor, remaining)
    plan = rules.plan_repayment(debts, [lot(1, 6), lot(2, 4)])
    assert [(r.debt_lot_id, r.creditor_party_id, r.take.lot.id, r.take.points)
            for r in plan] == [(90, 2, 1, 6), (90, 2, 2, 2), (91, 3, 2, 2)]


def test_two_credits_into_one_lot_each_repay_their_own_points() -> None:
    # A redemption given back may return points to one lot from two consumptions.
    plan = rules.plan_repayment([(90, 2, -10)], [lot(1, 3), lot(1, 4)])
    assert [r.take.points for r in plan] == [3, 4]


# --- reversals -------------------------------------------------------------------------------

def test_a_reversal_takes_what_is_left_by_default_and_never_more() -> None:
    assert rules.left_to_reverse(100, 30, None, noun="earn", verb="reverse") == 70
    assert rules.left_to_reverse(100, 30, 70, noun="earn", verb="reverse") == 70
    with pytest.raises(ReversalExceedsOriginal) as too_much:
        rules.left_to_reverse(100, 30, 71, noun="redemption", verb="give back")
    assert too_much.value.message == ("only 70 points of this redemption are left to give back, "
                                      "not 71")
    with pytest.raises(AlreadyReversed) as done:
        rules.left_to_reverse(100, 100, None, noun="earn", verb="reverse")
    assert done.value.field == "entryId"


def test_a_clawback_takes_the_earns_own_lot_then_others_then_books_debt() -> None:
    plan = rules.plan_clawback(lot(1, 20), [lot(2, 15), lot(3, 10)], 50)
    assert plan.from_own == [Take(lot(1, 20), 20)]
    assert [(t.lot.id, t.points) for t in plan.from_others] == [(2, 15), (3, 10)]
    assert plan.debt == 5


def test_a_clawback_covered_by_the_own_lot_touches_nothing_else() -> None:
    plan = rules.plan_clawback(lot(1, 20), [lot(2, 15)], 12)
    assert (plan.from_own, plan.from_others, plan.debt) == ([Take(lot(1, 20), 12)], [], 0)
    spent = rules.plan_clawback(lot(1, 0), [], 12)  # the earn was spent, nothing else is left
    assert (spent.from_own, spent.from_others, spent.debt) == ([], [], 12)


def test_a_redemption_is_given_back_last_taken_first_skipping_what_came_back() -> None:
    consumed = [(12, 102, 1, 5), (11, 101, 2, 0), (10, 100, 1, 8)]  # id desc: last taken first
    plan = rules.plan_give_back(consumed, 9)
    assert [(g.consumption_id, g.lot_id, g.issuer_party_id, g.points) for g in plan] == [
        (12, 102, 1, 5), (10, 100, 1, 4)]
    with pytest.raises(AssertionError):
        rules.plan_give_back(consumed, 14)
