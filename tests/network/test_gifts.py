"""Gifts between members on both databases, and two gifts racing for the same points on
PostgreSQL (SQLite serializes writers, so a pass there proves nothing)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from network import ledger, members
from network.db.schema import lots
from network.ledger.balances import summary
from network.ledger.errors import LedgerError
from network.ledger.verify import verify
from network.notifications.schema import notification_outbox
from network.wallet import gifts
from tests.support import ledger_world as w

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def rules(**kw) -> gifts.GiftRules:
    return gifts.GiftRules(**({"allowed": True, "daily_limit": 500, "consent": False,
                               "secret": w.SECRET, "country": "IR"} | kw))


@pytest.fixture
def world(db):
    cafe, shop = w.partner(db, "cafe"), w.partner(db, "shop")
    sara = w.member(db)
    ali = members.enrol(db, secret=w.SECRET, scope="system", idempotency_key=w.key(),
                        enrolled_by=None, phone="09121234567", country="IR").id
    for partner, points in ((cafe, 100), (shop, 200)):
        ledger.earn(db, scope=f"partner:{partner}", idempotency_key=w.key(), issuer_id=partner,
                    member_id=sara, points=points, vests_at=T0 - HOUR,
                    expires_at=T0 + 100 * HOUR * (2 if partner == shop else 1), now=T0 - HOUR)
    card = db.read(lambda c: members.get(c, ali, w.SECRET)).card_number
    return {"cafe": cafe, "shop": shop, "sara": sara, "ali": ali, "ali_card": card}


def spendable(db, member_id, at=T0):
    return db.read(lambda c: summary(c, member_id, at).spendable)


def issuers(db, member_id):
    return sorted(db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, lots.c.remaining).where(lots.c.member_id == member_id,
                                                               lots.c.remaining > 0)).all()))


def test_a_gift_by_card_keeps_provenance_and_is_idempotent(db, world):
    g = gifts.send(db, rules(), sender_id=world["sara"], points=150, idempotency_key="g1",
                   card_number=world["ali_card"], now=T0)
    again = gifts.send(db, rules(), sender_id=world["sara"], points=150, idempotency_key="g1",
                       card_number=world["ali_card"], now=T0)
    assert again == g and g.status == "sent"
    assert spendable(db, world["sara"]) == 150 and spendable(db, world["ali"]) == 150
    # Earliest expiry first: the café's 100, then 50 of the shop's; the issuers travel along.
    assert issuers(db, world["ali"]) == sorted([(world["cafe"], 100), (world["shop"], 50)])
    assert verify(db) == []
    sara_card = db.read(lambda c: members.get(c, world["sara"], w.SECRET)).card_number
    told = db.read(lambda c: c.execute(select(
        notification_outbox.c.member_id, notification_outbox.c.channel,
        notification_outbox.c.recipient, notification_outbox.c.subject)).all())
    assert [tuple(t) for t in told] == [(world["ali"], "sms", "+989121234567",
                                         f"150 points from card ••••{sara_card[-4:]}")]


def test_a_gift_by_phone_as_dialled(db, world):
    g = gifts.send(db, rules(), sender_id=world["sara"], points=10, idempotency_key="g",
                   phone="0912 123 4567", now=T0)
    assert g.receiver_member_id == world["ali"]


@pytest.mark.parametrize("kw, code", [
    ({"card_number": "7012345678901232"}, "RECEIVER_NOT_FOUND"),
    ({"card_number": "1234"}, "INVALID_CARD_NUMBER"),
    ({"card_number": None, "phone": "12"}, "INVALID_PHONE"),
    ({"card_number": None}, "RECEIVER_REQUIRED"),
    ({"points": 301}, "INSUFFICIENT_POINTS"),
    ({"points": 501}, "GIFT_LIMIT_EXCEEDED"),
    ({"rules": rules(allowed=False)}, "GIFTS_DISABLED"),
])
def test_refusals_are_specific_and_write_nothing(db, world, kw, code):
    before = w.row_counts(db)
    args = {"card_number": world["ali_card"], "points": 10, "rules": rules()} | kw
    with pytest.raises(LedgerError) as info:
        gifts.send(db, args.pop("rules"), sender_id=world["sara"], idempotency_key=w.key(),
                   now=T0, **args)
    assert info.value.code == code
    assert w.row_counts(db) == before


def test_self_gift_and_daily_limit_over_24_hours(db, world):
    sara_card = db.read(lambda c: members.get(c, world["sara"], w.SECRET)).card_number
    with pytest.raises(gifts.GiftError) as info:
        gifts.send(db, rules(), sender_id=world["sara"], points=5, idempotency_key="s",
                   card_number=sara_card, now=T0)
    assert info.value.code == "SELF_GIFT"
    gifts.send(db, rules(daily_limit=100), sender_id=world["sara"], points=80,
               idempotency_key="a", card_number=world["ali_card"], now=T0)
    with pytest.raises(gifts.GiftError) as info:
        gifts.send(db, rules(daily_limit=100), sender_id=world["sara"], points=30,
                   idempotency_key="b", card_number=world["ali_card"], now=T0 + 23 * HOUR)
    assert info.value.code == "GIFT_LIMIT_EXCEEDED" and info.value.params == {"left": 20}
    gifts.send(db, rules(daily_limit=100), sender_id=world["sara"], points=30,
               idempotency_key="c", card_number=world["ali_card"], now=T0 + 25 * HOUR)


def test_with_consent_a_gift_waits_then_accepting_moves_it(db, world):
    g = gifts.send(db, rules(consent=True), sender_id=world["sara"], points=120,
                   idempotency_key="g", card_number=world["ali_card"], now=T0)
    assert g.status == "pending" and g.expires_at == T0 + gifts.CONSENT_TTL
    assert spendable(db, world["sara"]) == 180 and spendable(db, world["ali"]) == 0
    done = gifts.accept(db, receiver_id=world["ali"], gift_id=g.id, now=T0 + HOUR)
    assert done.status == "accepted"
    assert gifts.accept(db, receiver_id=world["ali"], gift_id=g.id, now=T0 + HOUR) == done
    assert spendable(db, world["ali"], T0 + HOUR) == 120
    assert issuers(db, world["ali"]) == sorted([(world["cafe"], 100), (world["shop"], 20)])
    assert verify(db) == []


def test_declining_returns_points_to_the_senders_very_lots_and_can_block(db, world):
    lots_before = issuers(db, world["sara"])
    g = gifts.send(db, rules(consent=True), sender_id=world["sara"], points=120,
                   idempotency_key="g", card_number=world["ali_card"], now=T0)
    with pytest.raises(gifts.GiftError) as info:
        gifts.accept(db, receiver_id=world["sara"], gift_id=g.id, now=T0)
    assert info.value.code == "GIFT_NOT_FOUND"  # only the receiver answers a gift
    done = gifts.decline(db, receiver_id=world["ali"], gift_id=g.id, block=True, now=T0 + HOUR)
    assert done.status == "declined"
    assert issuers(db, world["sara"]) == lots_before and spendable(db, world["ali"]) == 0
    with pytest.raises(gifts.GiftError) as info:
        gifts.accept(db, receiver_id=world["ali"], gift_id=g.id, now=T0 + HOUR)
    assert info.value.code == "GIFT_NOT_PENDING"
    with pytest.raises(gifts.GiftError) as info:
        gifts.send(db, rules(), sender_id=world["sara"], points=5, idempotency_key="again",
                   card_number=world["ali_card"], now=T0 + 2 * HOUR)
    assert info.value.code == "RECEIVER_BLOCKED"
    assert verify(db) == []


def test_an_unanswered_gift_expires_back_to_the_sender(db, world):
    g = gifts.send(db, rules(consent=True), sender_id=world["sara"], points=120,
                   idempotency_key="g", card_number=world["ali_card"], now=T0)
    later = T0 + gifts.CONSENT_TTL + HOUR
    ledger.expire_due(db, now=later)
    with pytest.raises(gifts.GiftError) as info:
        gifts.accept(db, receiver_id=world["ali"], gift_id=g.id, now=later)
    assert info.value.code == "GIFT_EXPIRED"
    assert db.read(gifts.of_member, world["ali"], later)[0].status == "expired"
    # The café's 100 expired meanwhile (at 100 hours) with or without the gift; the shop's
    # 200 are all back.
    assert spendable(db, world["sara"], later) == 200
    assert db.read(lambda c: summary(c, world["sara"], later).held) == 0
    assert verify(db) == []


@pytest.mark.parametrize("consent", [False, True])
def test_two_gifts_racing_for_the_same_points_on_postgresql(pg_db, consent):
    cafe = w.partner(pg_db, "cafe")
    sara, a, b = w.member(pg_db), w.member(pg_db), w.member(pg_db)
    ledger.earn(pg_db, scope="p", idempotency_key="seed", issuer_id=cafe, member_id=sara,
                points=100)
    cards = {m: pg_db.read(lambda c, m=m: members.get(c, m, w.SECRET)).card_number for m in (a, b)}
    start = threading.Barrier(8)

    def send(i: int) -> str:
        start.wait()
        try:
            gifts.send(pg_db, rules(consent=consent, daily_limit=10_000), sender_id=sara,
                       points=80, idempotency_key=f"race-{i}",
                       card_number=cards[a if i % 2 else b])
            return "ok"
        except LedgerError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(send, range(8)))
    assert outcomes == {"ok": 1, "INSUFFICIENT_POINTS": 7}
    assert verify(pg_db) == []


def test_the_daily_limit_holds_under_racing_gifts_on_postgresql(pg_db):
    cafe = w.partner(pg_db, "cafe")
    sara, ali = w.member(pg_db), w.member(pg_db)
    ledger.earn(pg_db, scope="p", idempotency_key="seed", issuer_id=cafe, member_id=sara,
                points=1000)
    card = pg_db.read(lambda c: members.get(c, ali, w.SECRET)).card_number
    start = threading.Barrier(8)

    def send(i: int) -> str:
        start.wait()
        try:
            gifts.send(pg_db, rules(daily_limit=100), sender_id=sara, points=30,
                       idempotency_key=f"l-{i}", card_number=card)
            return "ok"
        except LedgerError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(send, range(8)))
    assert outcomes == {"ok": 3, "GIFT_LIMIT_EXCEEDED": 5}
    assert verify(pg_db) == []


def test_a_persian_receiver_is_told_of_a_waiting_gift_in_persian(db, world):
    maryam = members.enrol(db, secret=w.SECRET, scope="system", idempotency_key=w.key(),
                           enrolled_by=None, email="maryam@example.com", locale="fa").id
    card = db.read(lambda c: members.get(c, maryam, w.SECRET)).card_number
    gifts.send(db, rules(consent=True), sender_id=world["sara"], points=120,
               idempotency_key="g", card_number=card, now=T0)
    subject, body = db.read(lambda c: c.execute(select(
        notification_outbox.c.subject, notification_outbox.c.body).where(
        notification_outbox.c.recipient == "maryam@example.com")).one())
    assert subject.startswith("۱۲۰ امتیاز هدیه از کارت ••••")
    assert "پذیرفتن یا رد کردن" in body
