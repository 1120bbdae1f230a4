"""Consent and preferences: `may_send` for every message kind against every preference, quiet
hours in the member's zone, the consent record, and the same answers on the queue and drain
paths (a member who opted out gets nothing of that kind, whichever path it takes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from network.clock import as_utc
from network.notifications import messages, preferences
from network.notifications.drain import drain
from network.notifications.preferences import (
    KINDS,
    Change,
    Drop,
    Hold,
    Preferences,
    PreferencesError,
    Send,
    may_send,
)
from network.notifications.schema import notification_outbox as box
from tests.network import wallet_world as ww

NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
CHANNELS = ("sms", "email")
# Every single preference a member can set, each applied alone to the defaults.
SETTINGS = {
    "defaults": {},
    "programme_sms_off": {"programme_sms": False},
    "programme_email_off": {"programme_email": False},
    "marketing_sms_on": {"marketing_sms": True},
    "marketing_email_on": {"marketing_email": True},
    "everything_off": {"programme_sms": False, "programme_email": False},
}


def expected(kind: str, channel: str, prefs: Preferences) -> str:
    category = KINDS[kind]
    if category == "transactional":
        return "send"
    return "send" if getattr(prefs, f"{category}_{channel}") else "drop"


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_against_every_preference(kind: str, channel: str, setting: str) -> None:
    prefs = replace(Preferences(), **SETTINGS[setting])
    decision = may_send(kind, channel, prefs, NOON)
    want = expected(kind, channel, prefs)
    assert isinstance(decision, Send if want == "send" else Drop), decision
    if want == "drop":
        assert decision.reason == ("no_consent" if KINDS[kind] == "marketing" else "opted_out")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_quiet_hours_hold_all_but_transactional_messages(kind: str) -> None:
    prefs = Preferences(marketing_sms=True, marketing_email=True, time_zone="Asia/Tehran")
    late = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)  # 23:30 in Tehran
    decision = may_send(kind, "sms", prefs, late)
    if KINDS[kind] == "transactional":
        assert decision == Send()
    else:  # held until 08:00 Tehran the next morning = 04:30 UTC
        assert decision == Hold(dt.datetime(2026, 12, 8, 4, 30, tzinfo=dt.UTC))


def test_quiet_hours_follow_the_members_zone_not_the_servers() -> None:
    at = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)  # 06:00 UTC, 09:30 in Tehran
    assert may_send("earned", "sms", Preferences(), at) == Hold(
        dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC))
    assert may_send("earned", "sms", Preferences(time_zone="Asia/Tehran"), at) == Send()
    # no zone chosen: the network's
    assert may_send("earned", "sms", Preferences(network_zone="Asia/Tehran"), at) == Send()


def test_quiet_hours_that_do_not_wrap_midnight_and_switched_off() -> None:
    prefs = Preferences(quiet=(13 * 60, 14 * 60 + 30))
    assert may_send("vested", "email", prefs, NOON) == Send()
    assert may_send("vested", "email", prefs, NOON + dt.timedelta(hours=1)) == Hold(
        NOON + dt.timedelta(hours=2, minutes=30))
    assert may_send("vested", "email", replace(prefs, quiet=None),
                    NOON + dt.timedelta(hours=1)) == Send()


def test_unknown_kind_is_dropped_and_old_rows_are_transactional() -> None:
    assert may_send("spam", "sms", Preferences(), NOON) == Drop("unknown_kind")
    assert may_send(None, "sms", Preferences(programme_sms=False), NOON) == Send()


def test_marketing_needs_todays_wording() -> None:
    with pytest.raises(PreferencesError) as refused:
        preferences.apply(Preferences(), Change(marketing_email=True, wording_version="old"))
    assert refused.value.code == "CONSENT_WORDING_OUTDATED"
    after = preferences.apply(Preferences(), Change(marketing_email=True,
                                                    wording_version=preferences.WORDING_VERSION))
    assert after.marketing_email and not after.marketing_sms


def test_bad_quiet_hours_and_zones_are_refused_by_field() -> None:
    with pytest.raises(PreferencesError) as bad_clock:
        preferences.parse_clock("25:00", "quietStart")
    assert (bad_clock.value.code, bad_clock.value.field) == ("INVALID_QUIET_HOURS", "quietStart")
    assert preferences.parse_clock("۲۱:۳۰", "quietStart") == 21 * 60 + 30
    with pytest.raises(PreferencesError) as bad_zone:
        preferences.check_zone("Mars/Olympus")
    assert bad_zone.value.code == "INVALID_TIME_ZONE"


def test_consent_is_recorded_with_time_and_the_exact_words(db) -> None:
    member = ww.enrol(db, email="sara@example.com", phone="+989121234567")
    db.write(preferences.change, member,
             Change(marketing_sms=True, programme_email=False, language="fa",
                    wording_version=preferences.WORDING_VERSION),
             source="web", now=NOON)
    rows = db.read(preferences.consents, member)
    granted = [(r.category, r.channel, r.granted, r.source) for r in rows]
    assert granted == [("programme", "email", False, "web"), ("marketing", "sms", True, "web")]
    marketing = rows[1]
    assert marketing.wording == preferences.WORDINGS[preferences.WORDING_VERSION]["fa"]
    assert marketing.wording_version == preferences.WORDING_VERSION
    assert as_utc(marketing.recorded_at) == NOON
    loaded = db.read(preferences.load, member)
    assert (loaded.marketing_sms, loaded.programme_email, loaded.programme_sms) == (
        True, False, True)


def _outbox(db):  # type: ignore[no-untyped-def]
    return db.read(lambda c: c.execute(select(box).order_by(box.c.id)).all())


PARAMS = {
    "earned": {"points": 120, "count": 1, "balance": 1450, "partner": "Corner Cafe"},
    "vested": {"points": 300, "balance": 1450},
    "expiring": {"points": 300, "date": dt.date(2027, 1, 6), "days": 30},
    "tier_reached": {"tier": "Silver", "old": "Blue"},
    "tier_lost": {"tier": "Blue", "old": "Silver"},
    "reward_bought": {"reward": "Free coffee", "code": "K7Q2-MX4P", "partner": "Corner Cafe",
                      "points": 500},
    "lottery_won": {"prize": "A bicycle", "draw": "Yalda", "code": "W-9931"},
    "donation_receipt": {"points": 200, "charity": "Mahak", "receipt": "88",
                         "date": dt.date(2026, 12, 7)},
    "offer": {"partner": "Corner Cafe", "text": "Two coffees for one this Friday."},
}
LIFECYCLE = sorted(k for k, c in KINDS.items() if c != "transactional")


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("kind", LIFECYCLE)
def test_queue_and_drain_paths_obey_each_preference(db, kind: str, setting: str) -> None:
    """Queued under the preference: only allowed channels get a row. Then the member opts out
    of everything before the drain: the drainer drops what was queued."""
    member = ww.enrol(db, email="sara@example.com", phone="+989121234567")
    prefs = replace(Preferences(quiet=None), **SETTINGS[setting])
    before = db.read(preferences.load, member)
    db.write(preferences.save, member, before, prefs, source="web", now=NOON)
    db.write(messages.deliver, member, kind, PARAMS[kind], now=NOON, settings=ww.settings())
    queued = {r.channel for r in _outbox(db)}
    assert queued == {c for c in CHANNELS if expected(kind, c, prefs) == "send"}
    if not queued:
        return
    db.write(preferences.save, member, prefs,
             Preferences(programme_sms=False, programme_email=False, quiet=None),
             source="web", now=NOON)
    inbox = ww.Inbox()
    report = drain(db, inbox, lambda: NOON, network_zone="UTC")
    assert inbox.messages == []
    assert report.dropped == len(queued)
    assert {r.status for r in _outbox(db)} == {"dropped"}
    assert all(r.body is None and r.html_body is None for r in _outbox(db))


def test_a_message_queued_in_quiet_hours_waits_for_their_end(db) -> None:
    member = ww.enrol(db, phone="+989121234567")
    late = dt.datetime(2026, 12, 7, 22, 0, tzinfo=dt.UTC)
    db.write(messages.deliver, member, "earned", PARAMS["earned"], now=late,
             settings=ww.settings())
    inbox = ww.Inbox()
    drain(db, inbox, lambda: late + dt.timedelta(hours=1), network_zone="UTC")
    assert inbox.messages == []
    drain(db, inbox, lambda: dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC), network_zone="UTC")
    assert [m.channel for m in inbox.messages] == ["sms"]
    assert _outbox(db)[0].attempts == 1


def test_the_drainer_holds_a_message_that_reaches_it_in_quiet_hours(db) -> None:
    member = ww.enrol(db, email="sara@example.com")
    db.write(messages.deliver, member, "vested", PARAMS["vested"], now=NOON,
             settings=ww.settings())
    inbox = ww.Inbox()
    night = dt.datetime(2026, 12, 7, 23, 0, tzinfo=dt.UTC)
    report = drain(db, inbox, lambda: night, network_zone="UTC")
    assert (report.held, inbox.messages) == (1, [])
    row = _outbox(db)[0]
    assert (row.status, row.attempts) == ("pending", 0)
    assert as_utc(row.next_attempt_at) == dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC)
    drain(db, inbox, lambda: dt.datetime(2026, 12, 8, 8, 0, tzinfo=dt.UTC), network_zone="UTC")
    assert len(inbox.messages) == 1
    assert inbox.messages[0].unsubscribe_url and inbox.messages[0].html
