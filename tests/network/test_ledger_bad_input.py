"""Bad input: a specific error for each, and not one row written anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from network import ledger
from network.ledger import errors
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def world(db):
    cafe = w.partner(db, "cafe")
    shop = w.partner(db, "shop")
    m = w.member(db)
    earned = ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="seed", issuer_id=cafe,
                         member_id=m, points=100, now=T0)
    hold = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key="hold",
                                 partner_id=cafe, member_id=m, points=10, now=T0,
                                 expires_at=T0 + timedelta(hours=1))
    redeemed = ledger.redeem(db, scope=f"partner:{shop}", idempotency_key="r", partner_id=shop,
                             member_id=m, points=5, now=T0)
    return {"cafe": cafe, "shop": shop, "member": m, "earn": earned.entry_id,
            "hold": hold.hold_id, "redeem": redeemed.entry_id}


def _earn(db, world, **overrides):
    args = dict(scope=f"partner:{world['cafe']}", idempotency_key=w.key(),
                issuer_id=world["cafe"], member_id=world["member"], points=10, now=T0)
    args.update(overrides)
    return ledger.earn(db, **args)


@pytest.mark.parametrize("points, code", [
    (0, "INVALID_AMOUNT"), (-5, "INVALID_AMOUNT"), (2.5, "INVALID_AMOUNT"),
    ("10", "INVALID_AMOUNT"), (True, "INVALID_AMOUNT"), (None, "INVALID_AMOUNT"),
    (10**12, "AMOUNT_TOO_LARGE"), (ledger.MAX_POINTS + 1, "AMOUNT_TOO_LARGE"),
])
def test_bad_amounts_are_refused_before_anything_is_written(db, world, points, code):
    before = w.row_counts(db)
    for call in (
        lambda: _earn(db, world, points=points),
        lambda: ledger.redeem(db, scope="partner:1", idempotency_key=w.key(),
                              partner_id=world["shop"], member_id=world["member"],
                              points=points, now=T0),
        lambda: ledger.authorize_hold(db, scope="partner:1", idempotency_key=w.key(),
                                      partner_id=world["cafe"], member_id=world["member"],
                                      points=points, now=T0),
    ):
        with pytest.raises(errors.LedgerError) as caught:
            call()
        assert caught.value.code == code and caught.value.field == "points"
    assert w.row_counts(db) == before


def test_each_refusal_names_its_reason_and_writes_nothing(db, world):
    cafe, shop, m = world["cafe"], world["shop"], world["member"]
    cases = [
        ("MEMBER_NOT_FOUND", lambda: _earn(db, world, member_id=999_999)),
        ("MEMBER_NOT_FOUND", lambda: ledger.redeem(
            db, scope="p", idempotency_key=w.key(), partner_id=shop, member_id=999_999,
            points=1, now=T0)),
        ("PARTY_NOT_FOUND", lambda: _earn(db, world, issuer_id=424_242)),
        ("INSUFFICIENT_POINTS", lambda: ledger.redeem(
            db, scope="p", idempotency_key=w.key(), partner_id=shop, member_id=m,
            points=86, now=T0)),
        ("HOLD_EXPIRED", lambda: ledger.capture_hold(
            db, scope="p", idempotency_key=w.key(), partner_id=cafe, hold_id=world["hold"],
            now=T0 + timedelta(hours=2))),
        ("CAPTURE_EXCEEDS_HOLD", lambda: ledger.capture_hold(
            db, scope="p", idempotency_key=w.key(), partner_id=cafe, hold_id=world["hold"],
            points=11, now=T0)),
        ("HOLD_NOT_FOUND", lambda: ledger.capture_hold(
            db, scope="p", idempotency_key=w.key(), partner_id=shop, hold_id=world["hold"],
            now=T0)),
        ("ENTRY_NOT_FOUND", lambda: ledger.reverse_earn(
            db, scope="p", idempotency_key=w.key(), partner_id=shop, entry_id=world["earn"],
            now=T0)),
        ("ENTRY_NOT_FOUND", lambda: ledger.reverse_redemption(
            db, scope="p", idempotency_key=w.key(), partner_id=shop, entry_id=world["earn"],
            now=T0)),
        ("REVERSAL_EXCEEDS_ORIGINAL", lambda: ledger.reverse_redemption(
            db, scope="p", idempotency_key=w.key(), partner_id=shop, entry_id=world["redeem"],
            points=6, now=T0)),
        ("INVALID_INPUT", lambda: _earn(db, world, expires_at=T0 - timedelta(days=1))),
        ("INVALID_INPUT", lambda: _earn(db, world, reference="x" * 201)),
        ("IDEMPOTENCY_KEY_MISSING", lambda: _earn(db, world, idempotency_key="")),
        ("IDEMPOTENCY_KEY_INVALID", lambda: _earn(db, world, idempotency_key="k" * 201)),
        ("CHARITY_NOT_FOUND", lambda: ledger.donate(
            db, scope="m", idempotency_key=w.key(), member_id=m, charity_id=shop, points=1,
            now=T0)),
    ]
    before = w.row_counts(db)
    for code, call in cases:
        with pytest.raises(errors.LedgerError) as caught:
            call()
        assert caught.value.code == code, (code, caught.value.message)
        assert caught.value.message
    assert w.row_counts(db) == before


def test_reversing_twice_is_refused_the_second_time(db, world):
    ledger.reverse_earn(db, scope="p", idempotency_key="once", partner_id=world["cafe"],
                        entry_id=world["earn"], now=T0)
    before = w.row_counts(db)
    with pytest.raises(errors.AlreadyReversed):
        ledger.reverse_earn(db, scope="p", idempotency_key="twice", partner_id=world["cafe"],
                            entry_id=world["earn"], now=T0)
    assert w.row_counts(db) == before


def test_a_reference_too_long_for_its_column_is_refused_by_every_operation(db, world):
    """Earn and redeem checked it; holds and reversals sent it to the insert, where PostgreSQL
    failed with an internal error and SQLite stored it whole."""
    long = "r" * 201
    partner = {"scope": f"partner:{world['cafe']}", "partner_id": world["cafe"], "now": T0}
    before = w.row_counts(db)
    for call in (
        lambda: _earn(db, world, reference=long),
        lambda: ledger.authorize_hold(db, idempotency_key=w.key(), member_id=world["member"],
                                      points=1, reference=long, **partner),
        lambda: ledger.capture_hold(db, idempotency_key=w.key(), hold_id=world["hold"],
                                    reference=long, **partner),
        lambda: ledger.reverse_earn(db, idempotency_key=w.key(), entry_id=world["earn"],
                                    points=1, reference=long, **partner),
        lambda: ledger.reverse_redemption(db, scope=f"partner:{world['shop']}",
                                          idempotency_key=w.key(), partner_id=world["shop"],
                                          entry_id=world["redeem"], points=1, reference=long,
                                          now=T0),
    ):
        with pytest.raises(errors.InvalidInput) as caught:
            call()
        assert (caught.value.code, caught.value.field) == ("INVALID_INPUT", "reference")
    assert w.row_counts(db) == before
    held = ledger.authorize_hold(db, idempotency_key=w.key(), member_id=world["member"],
                                 points=1, reference="r" * 200, **partner)
    assert held.hold_id is not None  # 200 characters fit
