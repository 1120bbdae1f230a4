"""Each ledger operation on both databases: balances, postings and the exact provenance rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from network import ledger, parties
from network.db.engine import Database
from network.db.schema import consumptions, journal_entries, lots, member_balances, postings
from network.ledger import errors
from network.ledger.balances import summary
from network.ledger.verify import verify
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def consumed(db: Database, entry_id: int) -> list[tuple[int, str, int | None, int]]:
    """(lot, kind, sink, points) rows of one entry, in the order they were written."""
    return [tuple(r) for r in db.read(lambda c: c.execute(
        select(consumptions.c.lot_id, consumptions.c.kind, consumptions.c.sink_party_id,
               consumptions.c.points)
        .where(consumptions.c.entry_id == entry_id).order_by(consumptions.c.id)).all())]


def remaining(db: Database, member_id: int) -> dict[int, int]:
    return dict(db.read(lambda c: c.execute(
        select(lots.c.id, lots.c.remaining).where(lots.c.member_id == member_id)).all()))


@pytest.fixture
def world(db: Database) -> dict[str, int]:
    return {"cafe": w.partner(db, "cafe"), "shop": w.partner(db, "shop"),
            "telco": w.partner(db, "telco"), "charity": w.charity(db, "mahak"),
            "member": w.member(db)}


def earn(db: Database, partner: int, member: int, points: int, *, at: datetime = T0,
         expires_in: timedelta = 365 * DAY, pending: timedelta = timedelta(0)) -> ledger.Receipt:
    return ledger.earn(db, scope=f"partner:{partner}", idempotency_key=w.key(), issuer_id=partner,
                       member_id=member, points=points, vests_at=at + pending,
                       expires_at=at + expires_in, now=at)


def test_redeem_takes_earliest_expiry_first_with_one_row_per_lot(db, world):
    cafe, shop, telco, m = world["cafe"], world["shop"], world["telco"], world["member"]
    late = earn(db, cafe, m, 100, expires_in=300 * DAY)
    soon = earn(db, telco, m, 30, expires_in=10 * DAY)
    mid = earn(db, shop, m, 50, expires_in=100 * DAY)
    r = ledger.redeem(db, scope=f"partner:{shop}", idempotency_key="r", partner_id=shop,
                      member_id=m, points=120, now=T0 + DAY)
    assert r.balance == 60
    assert consumed(db, r.entry_id) == [
        (soon.lot_id, "redemption", shop, 30),
        (mid.lot_id, "redemption", shop, 50),
        (late.lot_id, "redemption", shop, 40),
    ]
    assert remaining(db, m) == {late.lot_id: 60, soon.lot_id: 0, mid.lot_id: 0}
    lines = db.read(lambda c: c.execute(select(postings.c.account_kind, postings.c.points)
                                        .where(postings.c.entry_id == r.entry_id)).all())
    assert sorted(map(tuple, lines)) == [("member_wallet", -120), ("redemption", 120)]
    assert verify(db) == []


def test_pending_points_are_visible_but_not_spendable(db, world):
    cafe, m = world["cafe"], world["member"]
    earn(db, cafe, m, 80, pending=14 * DAY)
    earn(db, cafe, m, 20)
    balance = db.read(summary, m, T0 + DAY)
    assert (balance.spendable, balance.pending) == (20, 80)
    assert balance.pending_lots[0].at == T0 + 14 * DAY
    with pytest.raises(errors.InsufficientPoints):
        ledger.redeem(db, scope=f"partner:{cafe}", idempotency_key="r", partner_id=cafe,
                      member_id=m, points=50, now=T0 + DAY)
    r = ledger.redeem(db, scope=f"partner:{cafe}", idempotency_key="r2", partner_id=cafe,
                      member_id=m, points=50, now=T0 + 15 * DAY)
    assert r.balance == 50


def test_hold_partial_capture_consumes_fifo_and_gives_the_rest_back(db, world):
    cafe, shop, m = world["cafe"], world["shop"], world["member"]
    a = earn(db, cafe, m, 40, expires_in=20 * DAY)
    b = earn(db, shop, m, 100, expires_in=200 * DAY)
    hold = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key="h",
                                 partner_id=cafe, member_id=m, points=90, now=T0)
    assert (hold.balance, hold.held) == (50, 90)
    # Reserved points cannot be spent twice.
    with pytest.raises(errors.InsufficientPoints):
        ledger.redeem(db, scope=f"partner:{shop}", idempotency_key="r", partner_id=shop,
                      member_id=m, points=51, now=T0)
    cap = ledger.capture_hold(db, scope=f"partner:{cafe}", idempotency_key="c",
                              partner_id=cafe, hold_id=hold.hold_id, points=60, now=T0 + DAY)
    assert (cap.balance, cap.held) == (80, 0)
    assert consumed(db, cap.entry_id) == [(a.lot_id, "redemption", cafe, 40),
                                          (b.lot_id, "redemption", cafe, 20)]
    assert remaining(db, m) == {a.lot_id: 0, b.lot_id: 80}
    with pytest.raises(errors.HoldNotActive):
        ledger.void_hold(db, scope=f"partner:{cafe}", idempotency_key="v", partner_id=cafe,
                         hold_id=hold.hold_id, now=T0 + DAY)
    assert verify(db) == []


def test_void_and_hold_expiry_return_points_to_their_lots(db, world):
    cafe, m = world["cafe"], world["member"]
    lot = earn(db, cafe, m, 100).lot_id
    h1 = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key="h1",
                               partner_id=cafe, member_id=m, points=30, now=T0)
    h2 = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key="h2",
                               partner_id=cafe, member_id=m, points=50, now=T0,
                               expires_at=T0 + 2 * DAY)
    void = ledger.void_hold(db, scope=f"partner:{cafe}", idempotency_key="v", partner_id=cafe,
                            hold_id=h1.hold_id, now=T0 + DAY)
    assert (void.balance, void.held) == (50, 50)
    with pytest.raises(errors.HoldExpired):
        ledger.capture_hold(db, scope=f"partner:{cafe}", idempotency_key="c", partner_id=cafe,
                            hold_id=h2.hold_id, now=T0 + 3 * DAY)
    report = ledger.expire_due(db, now=T0 + 3 * DAY)
    assert report.holds == 1
    assert remaining(db, m) == {lot: 100}
    assert db.read(summary, m, T0 + 3 * DAY).held == 0
    assert verify(db) == []


def test_reverse_redemption_restores_original_provenance(db, world):
    cafe, shop, m = world["cafe"], world["shop"], world["member"]
    a = earn(db, cafe, m, 30, expires_in=10 * DAY)
    b = earn(db, shop, m, 70, expires_in=90 * DAY)
    r = ledger.redeem(db, scope=f"partner:{shop}", idempotency_key="r", partner_id=shop,
                      member_id=m, points=60, now=T0)
    back = ledger.reverse_redemption(db, scope=f"partner:{shop}", idempotency_key="rr",
                                     partner_id=shop, entry_id=r.entry_id, points=35,
                                     now=T0 + DAY)
    # The last consumed come back first: 30 from lot b, then 5 from lot a.
    assert [row[3] for row in consumed(db, back.entry_id)] == [-30, -5]
    assert remaining(db, m) == {a.lot_id: 5, b.lot_id: 70}
    again = ledger.reverse_redemption(db, scope=f"partner:{shop}", idempotency_key="rr2",
                                      partner_id=shop, entry_id=r.entry_id, now=T0 + DAY)
    assert again.points == 25 and again.balance == 100
    with pytest.raises(errors.AlreadyReversed):
        ledger.reverse_redemption(db, scope=f"partner:{shop}", idempotency_key="rr3",
                                  partner_id=shop, entry_id=r.entry_id, now=T0 + DAY)
    assert verify(db) == []


def test_clawback_of_spent_points_makes_a_debt_that_later_credits_repay(db, world):
    cafe, shop, telco, m = world["cafe"], world["shop"], world["telco"], world["member"]
    e = earn(db, cafe, m, 100)
    other = earn(db, telco, m, 30)
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key="r", partner_id=shop,
                  member_id=m, points=100, now=T0)  # takes 100 from the cafe lot: same expiry,
    # older first; the telco lot still has 30
    rev = ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key="x", partner_id=cafe,
                              entry_id=e.entry_id, now=T0 + DAY)
    assert (rev.balance, rev.debt) == (-70, 70)
    assert consumed(db, rev.entry_id) == [(other.lot_id, "clawback", cafe, 30)]
    later = earn(db, shop, m, 50, at=T0 + 2 * DAY)
    assert (later.balance, later.debt) == (-20, 20)
    assert consumed(db, later.entry_id) == [(later.lot_id, "clawback", cafe, 50)]
    with pytest.raises(errors.InsufficientPoints):
        ledger.redeem(db, scope=f"partner:{shop}", idempotency_key="r2", partner_id=shop,
                      member_id=m, points=1, now=T0 + 2 * DAY)
    final = earn(db, shop, m, 25, at=T0 + 3 * DAY)
    assert (final.balance, final.debt) == (5, 0)
    assert verify(db) == []


@pytest.mark.parametrize("given_back_by", ["hold expiry", "void"])
def test_points_given_back_into_an_expired_lot_expire_instead_of_repaying_debt(
        db, world, given_back_by):
    """Found by the property test: a hold released after its lot expired put the points back
    into the expired lot, and they repaid the member's debt instead of expiring."""
    cafe, m = world["cafe"], world["member"]
    e = earn(db, cafe, m, 10, expires_in=DAY)
    hold = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key="h",
                                 partner_id=cafe, member_id=m, points=10, now=T0,
                                 expires_at=T0 + 2 * DAY)
    rev = ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key="x", partner_id=cafe,
                              entry_id=e.entry_id, now=T0)
    assert rev.debt == 10  # the lot's points are held, so the refund is owed
    if given_back_by == "void":
        ledger.void_hold(db, scope=f"partner:{cafe}", idempotency_key="v", partner_id=cafe,
                         hold_id=hold.hold_id, now=T0 + DAY + timedelta(hours=1))
    report = ledger.expire_due(db, now=T0 + 3 * DAY)
    assert report.points == 10
    assert remaining(db, m)[e.lot_id] == 0
    # Still owed: worthless points paid nothing back.
    assert db.read(lambda c: c.execute(select(member_balances.c.debt, member_balances.c.balance)
                   .where(member_balances.c.member_id == m)).one()) == (10, -10)
    assert verify(db) == []


def test_partial_earn_reversals_cannot_exceed_the_earn(db, world):
    cafe, m = world["cafe"], world["member"]
    e = earn(db, cafe, m, 100)
    ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key="a", partner_id=cafe,
                        entry_id=e.entry_id, points=60, now=T0)
    with pytest.raises(errors.ReversalExceedsOriginal):
        ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key="b", partner_id=cafe,
                            entry_id=e.entry_id, points=41, now=T0)
    last = ledger.reverse_earn(db, scope=f"partner:{cafe}", idempotency_key="c",
                               partner_id=cafe, entry_id=e.entry_id, now=T0)
    assert (last.points, last.balance) == (40, 0)


def test_donation_and_expiry_are_consumptions_with_their_sinks(db, world):
    cafe, charity, m = world["cafe"], world["charity"], world["member"]
    a = earn(db, cafe, m, 100, expires_in=30 * DAY)
    d = ledger.donate(db, scope=f"member:{m}", idempotency_key="d", member_id=m,
                      charity_id=charity, points=40, now=T0)
    assert consumed(db, d.entry_id) == [(a.lot_id, "donation", charity, 40)]
    report = ledger.expire_due(db, now=T0 + 31 * DAY)
    assert (report.members, report.lots, report.points) == (1, 1, 60)
    expire_entry = db.read(lambda c: c.execute(select(journal_entries.c.id).where(
        journal_entries.c.kind == "expire")).scalar_one())
    network = db.read(lambda c: parties.network_party_id(c))
    assert consumed(db, expire_entry) == [(a.lot_id, "expiry", network, 60)]
    assert ledger.expire_due(db, now=T0 + 31 * DAY).points == 0  # safe to run twice
    assert verify(db) == []


def test_transfer_keeps_provenance_when_allowed(db, world):
    cafe, m = world["cafe"], world["member"]
    friend = w.member(db)
    earn(db, cafe, m, 100, expires_in=40 * DAY)
    with pytest.raises(errors.TransfersDisabled):
        ledger.transfer(db, scope=f"member:{m}", idempotency_key="t0", from_member_id=m,
                        to_member_id=friend, points=10, allowed=False, now=T0)
    r = ledger.transfer(db, scope=f"member:{m}", idempotency_key="t", from_member_id=m,
                        to_member_id=friend, points=30, allowed=True, now=T0)
    assert r.balance == 70
    got = db.read(lambda c: c.execute(select(lots.c.issuer_party_id, lots.c.remaining,
                                             lots.c.expires_at).where(lots.c.member_id == friend)
                                      ).one())
    assert got.issuer_party_id == cafe and got.remaining == 30
    assert verify(db) == []


def test_network_bonus_is_issued_by_the_network(db, world):
    m = world["member"]
    r = ledger.award_bonus(db, scope="system", idempotency_key="birthday-2026", member_id=m,
                           points=50, reason="birthday", now=T0)
    issuer = db.read(lambda c: c.execute(select(lots.c.issuer_party_id)
                                         .where(lots.c.id == r.lot_id)).scalar_one())
    network = db.read(lambda c: parties.network_party_id(c))
    assert issuer == network and r.kind == "bonus"


def test_a_late_retry_replays_even_when_its_expiry_has_passed(db, world):
    """The first answer wins over re-checking the request against a later clock."""
    cafe, m = world["cafe"], world["member"]
    first = ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="late", issuer_id=cafe,
                        member_id=m, points=10, expires_at=T0 + DAY, now=T0)
    counts = w.row_counts(db)
    again = ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="late", issuer_id=cafe,
                        member_id=m, points=10, expires_at=T0 + DAY, now=T0 + 2 * DAY)
    assert again == first and w.row_counts(db) == counts
    with pytest.raises(errors.InvalidInput):  # the same expiry under a new key is refused
        ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="late-2", issuer_id=cafe,
                    member_id=m, points=10, expires_at=T0 + DAY, now=T0 + 2 * DAY)
    assert w.row_counts(db) == counts


def test_same_key_same_request_replays_and_different_request_fails(db, world):
    cafe, m = world["cafe"], world["member"]
    first = ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="k", issuer_id=cafe,
                        member_id=m, points=10, now=T0)
    counts = w.row_counts(db)
    again = ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="k", issuer_id=cafe,
                        member_id=m, points=10, now=T0 + DAY)
    assert again == first
    assert w.row_counts(db) == counts
    with pytest.raises(errors.IdempotencyKeyReused):
        ledger.earn(db, scope=f"partner:{cafe}", idempotency_key="k", issuer_id=cafe,
                    member_id=m, points=11, now=T0)
    # The key is scoped to its caller: another partner may use the same string.
    shop = world["shop"]
    other = ledger.earn(db, scope=f"partner:{shop}", idempotency_key="k", issuer_id=shop,
                        member_id=m, points=10, now=T0)
    assert other.entry_id != first.entry_id
