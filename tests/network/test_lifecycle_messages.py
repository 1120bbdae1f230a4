"""Lifecycle messages: the hourly earned digest, pending points now spendable, expiring points,
tier changes, rewards, lottery wins and donation receipts; each once, whatever reruns; the
templates' SMS lengths; and no message carrying a card number, a used code or a secret."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from network import members
from network.notifications import lifecycle, messages, templates
from network.notifications.preferences import KINDS
from network.notifications.schema import notification_outbox as box
from network.wallet import donations
from network.web.i18n import locale_for
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

# 10:00 UTC, outside the default quiet hours (21:00-08:00 UTC, the test network's zone).
T = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def outbox(db):  # type: ignore[no-untyped-def]
    return db.read(lambda c: c.execute(select(box).order_by(box.c.id)).all())


@pytest.fixture
def cafe(db) -> int:  # type: ignore[no-untyped-def]
    return w.partner(db, "corner-cafe")


def test_earns_in_one_hour_make_one_message_per_member_and_channel(db, cafe) -> None:
    sara = ww.enrol(db, phone="+989121234567", email="sara@example.com", name="Sara")
    reza = ww.enrol(db, phone="+989121110000", locale="fa")
    pharmacy = w.partner(db, "pharmacy")
    for minute in (5, 20, 40):  # three coffees
        ww.earn(db, cafe, sara, 40, at=T + dt.timedelta(minutes=minute))
    ww.earn(db, cafe, reza, 30, at=T + dt.timedelta(minutes=10))
    ww.earn(db, pharmacy, reza, 20, at=T + dt.timedelta(minutes=50))
    ww.earn(db, cafe, sara, 7, at=T + HOUR + dt.timedelta(minutes=1))  # the next hour
    run = lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=5), ww.settings())
    rows = outbox(db)
    assert (run.members, run.queued, len(rows)) == (2, 3, 3)
    sms = {r.recipient: r.body for r in rows if r.channel == "sms"}
    assert "+120 points at Corner-Cafe" in sms["+989121234567"]
    assert "۵۰+ امتیاز در ۲ فروشگاه" in sms["+989121110000"]
    email = next(r for r in rows if r.channel == "email")
    assert email.subject == "You earned 120 points"
    assert "Hello Sara," in email.body and "/unsubscribe/" in email.body
    assert email.kind == "earned" and email.unsubscribe_url in email.html_body
    # a rerun, and the next run that looks back over the same hours, queue nothing new
    lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=20), ww.settings())
    assert len(outbox(db)) == 3
    # the next hour is announced once that hour has closed
    lifecycle.earned(db, T + 2 * HOUR + dt.timedelta(minutes=5), ww.settings())
    assert len(outbox(db)) == 5  # Sara's 7 points, by SMS and by email


def test_the_current_hour_waits_until_it_closed(db, cafe) -> None:
    sara = ww.enrol(db, phone="+989121234567")
    ww.earn(db, cafe, sara, 40, at=T + dt.timedelta(minutes=59))
    lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=1), ww.settings())
    assert outbox(db) == []  # an earn committing late could still land in that hour
    lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=3), ww.settings())
    assert len(outbox(db)) == 1


def test_pending_points_that_became_spendable_are_announced_once_a_day(db, cafe) -> None:
    sara = ww.enrol(db, email="sara@example.com")
    ww.earn(db, cafe, sara, 300, at=T - 14 * ww.DAY, pending=14 * ww.DAY - 2 * HOUR)
    ww.earn(db, cafe, sara, 50, at=T - 3 * HOUR)  # never pending: not announced
    morning = T + ww.DAY - HOUR  # 09:00 the next day
    lifecycle.vested(db, morning, ww.settings())
    lifecycle.vested(db, morning + dt.timedelta(minutes=5), ww.settings())
    lifecycle.vested(db, morning + ww.DAY, ww.settings())  # the look back covers it again
    rows = outbox(db)
    assert [r.subject for r in rows] == ["300 points are now yours to spend"]
    assert "Points you can spend now: 350." in rows[0].body


def test_expiring_points_are_warned_30_and_7_days_ahead_once_per_expiry_date(db, cafe) -> None:
    sara = ww.enrol(db, phone="+989121234567", locale="fa")
    expiry = T + 30 * ww.DAY
    ww.earn(db, cafe, sara, 200, at=T - 300 * ww.DAY, expires_in=330 * ww.DAY)
    ww.earn(db, cafe, sara, 100, at=T - 200 * ww.DAY, expires_in=230 * ww.DAY)
    ww.earn(db, cafe, sara, 999, at=T - 10 * ww.DAY, expires_in=300 * ww.DAY)  # later
    for _ in range(2):
        lifecycle.expiring(db, T, ww.settings())
    rows = outbox(db)
    assert len(rows) == 1
    assert rows[0].body == "شبکهٔ امتیاز: ۳۰۰ امتیاز شما ۱۶ دی ۱۴۰۵ منقضی می‌شود."
    assert expiry.date() == dt.date(2027, 1, 6)  # 16 Dey 1405
    lifecycle.expiring(db, T + ww.DAY, ww.settings())  # the next day: nothing new
    assert len(outbox(db)) == 1
    lifecycle.expiring(db, T + 23 * ww.DAY, ww.settings())  # 7 days before
    assert len(outbox(db)) == 2


def test_a_missed_day_is_caught_up(db, cafe) -> None:
    sara = ww.enrol(db, phone="+989121234567")
    ww.earn(db, cafe, sara, 200, at=T - 300 * ww.DAY, expires_in=330 * ww.DAY)
    lifecycle.expiring(db, T + ww.DAY, ww.settings())  # the worker was down on the 30th day
    assert [r.subject for r in outbox(db)] == ["200 points expire on Jan 6, 2027"]


@pytest.mark.parametrize(("old", "new", "kind", "subject"), [
    ("blue", "silver", "tier_reached", "You reached Silver"),
    ("gold", "silver", "tier_lost", "Your tier is now Silver"),
    (None, "blue", "tier_reached", "You reached Blue"),
])
def test_tier_changes(db, old, new, kind, subject) -> None:
    sara = ww.enrol(db, email="sara@example.com")
    db.write(messages.tier_changed, sara, old, new, now=T, settings=ww.settings())
    row = outbox(db)[0]
    assert (row.kind, row.subject) == (kind, subject)
    assert db.write(messages.tier_changed, sara, "gold", "gold", now=T) == []


def test_the_tier_messages_job_tells_each_stored_change_once(db) -> None:
    from network.programme.tiers_schema import tier_changes

    sara = ww.enrol(db, email="sara@example.com")
    db.write(lambda c: c.execute(tier_changes.insert().values(
        member_id=sara, from_tier="blue", to_tier="gold", changed_at=T, reason="earn",
        earned=10_000)))
    first = lifecycle.tier_changes(db, T + HOUR, ww.settings())
    assert (first.members, first.queued) == (1, 1)
    assert [(r.kind, r.subject) for r in outbox(db)] == [("tier_reached", "You reached Gold")]
    again = lifecycle.tier_changes(db, T + 2 * HOUR, ww.settings())
    assert again.queued == 0 and len(outbox(db)) == 1


def test_reward_bought_carries_its_code_once(db) -> None:
    sara = ww.enrol(db, phone="+989121234567", locale="fa")
    for _ in range(2):
        db.write(lambda c: messages.reward_bought(
            c, sara, reward={"en": "Free coffee", "fa": "قهوهٔ رایگان"}, code="K7Q2-MX4P",
            partner={"en": "Corner Cafe", "fa": "کافه کرنر"}, points=500, occasion="reward:7",
            now=T, settings=ww.settings()))
    rows = outbox(db)
    assert [r.body for r in rows] == ["شبکهٔ امتیاز: قهوهٔ رایگان. کد K7Q2-MX4P در کافه کرنر"]


def test_lottery_won(db) -> None:
    sara = ww.enrol(db, email="sara@example.com")
    db.write(lambda c: messages.lottery_won(c, sara, prize="A bicycle", draw="Yalda",
                                            code="W-9931", occasion="lottery:3:17", now=T,
                                            settings=ww.settings()))
    assert outbox(db)[0].subject == "You won: A bicycle"


def test_a_donation_sends_one_receipt(db, cafe) -> None:
    sara = ww.enrol(db, email="sara@example.com")
    mahak = w.charity(db, "mahak")
    ww.earn(db, cafe, sara, 500, at=T - ww.DAY)
    receipt = donations.donate(db, sara, mahak, 200, "don-1", now=T,
                                settings=ww.settings())
    donations.donate(db, sara, mahak, 200, "don-1", now=T, settings=ww.settings())  # a replay
    lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=5), ww.settings())  # the catch-up
    rows = [r for r in outbox(db) if r.kind == "donation_receipt"]
    assert len(rows) == 1
    assert f"Receipt number: {receipt.entry_id}" in rows[0].body
    assert "200 points to Mahak on Dec 7, 2026" in rows[0].body


def test_the_hourly_job_queues_a_receipt_the_donation_did_not(db, cafe) -> None:
    from network.ledger import donate
    sara = ww.enrol(db, email="sara@example.com")
    mahak = w.charity(db, "mahak")
    ww.earn(db, cafe, sara, 500, at=T - ww.DAY)
    donate(db, scope=f"member:{sara}", idempotency_key="x", member_id=sara, charity_id=mahak,
           points=100, now=T)  # as if the process stopped before queueing the receipt
    lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=5), ww.settings())
    assert [r.kind for r in outbox(db)] == ["donation_receipt"]


# --- templates ------------------------------------------------------------------------------

REALISTIC = {  # a realistic member: long-ish names, big numbers, a 5-digit receipt
    "earned": {"points": 1250, "count": 1, "balance": 24380,
               "partner": {"en": "Corner Café Chain", "fa": "کافه‌های کرنر"}},
    "vested": {"points": 1250, "balance": 24380},
    "expiring": {"points": 12500, "date": dt.date(2027, 2, 19), "days": 30},
    "tier_reached": {"tier": {"en": "Platinum", "fa": "پلاتینی"},
                     "old": {"en": "Gold", "fa": "طلایی"}},
    "tier_lost": {"tier": {"en": "Silver", "fa": "نقره‌ای"}, "old": {"en": "Gold", "fa": "طلایی"}},
    "reward_bought": {"reward": {"en": "Free large coffee", "fa": "قهوهٔ بزرگ رایگان"},
                      "code": "K7Q2-MX4P", "points": 1500,
                      "partner": {"en": "Corner Café", "fa": "کافه کرنر"}},
    "lottery_won": {"prize": {"en": "A city bicycle", "fa": "دوچرخهٔ شهری"},
                    "draw": {"en": "Yalda", "fa": "یلدا"}, "code": "W-99310"},
    "donation_receipt": {"points": 2000, "charity": {"en": "Mahak", "fa": "محک"},
                         "receipt": "48213", "date": dt.date(2026, 12, 7)},
    "offer": {"partner": {"en": "Corner Café", "fa": "کافه کرنر"},
              "text": {"en": "Two coffees for one this Friday.",
                       "fa": "جمعه دو قهوه به قیمت یکی."}},
}
LIFECYCLE = sorted(k for k, c in KINDS.items() if c != "transactional")


def _sms(kind: str, language: str, many: bool = False) -> str:
    params = dict(REALISTIC[kind])
    if many:
        params["count"] = 3
    values = messages.localised(params, language)
    return templates.render(kind, "sms", locale_for(language), values).body


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("kind", LIFECYCLE)
def test_each_sms_fits_one_segment_for_a_realistic_member(kind: str, language: str,
                                                          record_property) -> None:
    text = _sms(kind, language)
    segments = templates.sms_segments(text)
    record_property("sms", f"{kind}/{language}: {segments.encoding} {segments.length} chars")
    print(f"SMS {kind}/{language}: {segments.encoding} {segments.length} chars, "
          f"{segments.count} segment(s): {text}")
    assert segments.single, (segments, text)
    assert segments.encoding == ("GSM-7" if language == "en" else "UCS-2")


def test_segment_counting_follows_gsm_and_ucs2_limits() -> None:
    assert templates.sms_segments("a" * 160) == templates.Segments("GSM-7", 160, 1)
    assert templates.sms_segments("a" * 161).count == 2
    assert templates.sms_segments("€" * 80) == templates.Segments("GSM-7", 160, 1)
    assert templates.sms_segments("س" * 70).single
    assert templates.sms_segments("س" * 71) == templates.Segments("UCS-2", 71, 2)


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("kind", LIFECYCLE)
def test_persian_messages_use_persian_digits_and_jalali_dates(kind: str, language: str) -> None:
    values = messages.localised(REALISTIC[kind], language)
    email = templates.render(kind, "email", locale_for(language), values, name="Sara",
                             unsubscribe_url="https://hub.example/unsubscribe/t",
                             preferences_url="https://hub.example/wallet/preferences")
    text = email.body + email.subject
    prose = re.sub(r"https?://\S+|K7Q2-MX4P|W-99310", "", text)
    if language == "fa":
        assert not re.search(r"[0-9]", prose), prose
        assert 'dir="rtl"' in (email.html or "")
        if kind == "expiring":
            assert "۳۰ بهمن ۱۴۰۵" in text
    else:
        assert not re.search(r"[۰-۹]", text)
        if kind == "expiring":
            assert "Feb 19, 2027" in text
    assert "https://hub.example/unsubscribe/t" in (email.html or "")


def test_no_message_carries_a_card_number_a_used_code_or_a_secret(db, cafe) -> None:
    from network.signin.service import SignIn

    settings = ww.settings()
    sara = ww.enrol(db, phone="+989121234567", email="sara@example.com", name="Sara")
    card = db.read(members.get, sara, ww.SECRET).card_number
    mahak = w.charity(db, "mahak")
    ww.earn(db, cafe, sara, 500, at=T - ww.DAY, pending=ww.DAY - HOUR,
            expires_in=ww.DAY + 30 * ww.DAY)
    ww.earn(db, cafe, sara, 40, at=T + dt.timedelta(minutes=5))
    donations.donate(db, sara, mahak, 100, "d-1", now=T + dt.timedelta(minutes=6),
                     settings=settings)
    lifecycle.earned(db, T + HOUR + dt.timedelta(minutes=5), settings)
    lifecycle.vested(db, T + ww.DAY, settings)
    lifecycle.expiring(db, T, settings)
    db.write(messages.tier_changed, sara, "blue", "silver", now=T, settings=settings)
    db.write(lambda c: messages.reward_bought(c, sara, reward="Coffee", code="K7Q2-MX4P",
                                              partner="Cafe", points=5, now=T,
                                              settings=settings))
    db.write(lambda c: messages.lottery_won(c, sara, prize="Bike", draw="Yalda", code="W-1",
                                            now=T, settings=settings))
    # and a sign-in code, used at once
    clock = ww.Clock(T + ww.DAY + HOUR)
    signin = SignIn(db, settings, clock=clock)
    signin.request_code("sara@example.com", client_ip="127.0.0.1")
    inbox = ww.deliver(db, ww.Inbox(), clock)
    code = inbox.code_for("sara@example.com")
    signin.verify("sara@example.com", code, client_ip="127.0.0.1", kind="cookie",
                  user_agent="test")
    assert {m.kind for m in inbox.messages} >= {
        "earned", "vested", "expiring", "tier_reached", "reward_bought", "lottery_won",
        "donation_receipt"}
    for message in inbox.messages:
        text = " ".join([message.subject, message.body, message.html or "",
                         message.unsubscribe_url or ""])
        assert card not in text and card[-12:] not in text
        assert ww.SECRET not in text
        if message.kind is not None:  # lifecycle messages never carry a sign-in code
            assert code not in text
    rows = outbox(db)
    assert all(r.status == "sent" and r.body is None and r.html_body is None for r in rows)
    stored = " ".join(str(v) for r in rows for v in r)
    assert code not in stored and card not in stored


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_several_partners_digest_fits_one_segment_too(language: str) -> None:
    text = _sms("earned", language, many=True)
    print(f"SMS earned(3 partners)/{language}: {templates.sms_segments(text)}: {text}")
    assert templates.sms_segments(text).single, text
