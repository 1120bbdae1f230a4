"""The demo always has a last month to settle: its spending falls in the month before the day it
is built, in the network's time zone, whichever day of the month that is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from infra.demo import build_demo
from network.config import Settings
from network.db.engine import Database
from network.db.schema import journal_entries
from network.ledger.verify import verify
from network.programme.campaigns_schema import campaign_awards, campaigns
from settlement.period import Period


@pytest.mark.parametrize(("now", "zone", "last"), [
    (datetime(2027, 3, 1, 0, 5, tzinfo=UTC), "UTC", "2027-02"),  # first minutes of a month
    (datetime(2026, 12, 31, 21, 0, tzinfo=UTC), "Asia/Tehran", "2026-12"),  # Jan 1 in Tehran
    (datetime(2026, 10, 31, 12, 0, tzinfo=UTC), "UTC", "2026-09"),  # a 31st after a 30-day month
])
def test_last_months_spending_is_in_last_month(sqlite_db: Database, now: datetime, zone: str,
                                               last: str) -> None:
    build_demo(sqlite_db, Settings(database_url=sqlite_db.url, env="test", secret_key="s",
                                   timezone=zone), now=now)
    start, end = Period.parse(last).bounds(zone)
    rows = sqlite_db.read(lambda c: c.execute(select(journal_entries.c.kind,
                                                     journal_entries.c.booked_at)).all())
    in_last = {kind for kind, at in rows
               if start <= at.replace(tzinfo=UTC) < end}
    assert {"redeem", "donate", "reverse_redemption"} <= in_last
    assert all(at.replace(tzinfo=UTC) <= now for _, at in rows)  # nothing booked in the future
    assert verify(sqlite_db) == []


def test_the_demo_programme_gives_its_fact_bonuses(sqlite_db: Database) -> None:
    """Welcome on enrolment (every member), Sara's birthday, Sara's referral of Maryam (on
    Maryam's first café purchase) and John's 5-star review of the café, each once."""
    settings = Settings(database_url=sqlite_db.url, env="test", secret_key="s",
                        timezone="Asia/Tehran")
    demo = build_demo(sqlite_db, settings, now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    build_demo(sqlite_db, settings, now=datetime(2026, 11, 20, 9, 5, tzinfo=UTC))  # again
    sara, john, maryam = (m.id for m in demo.members)
    ca, c = campaign_awards.c, campaigns.c
    rows = sqlite_db.read(lambda conn: conn.execute(
        select(ca.member_id, c.code, ca.points).join(campaigns, c.id == ca.campaign_id)
        .where(c.code.in_(("welcome", "birthday", "referral", "roshan-reviews")))
        .order_by(ca.id)).all())
    assert sorted(map(tuple, rows)) == sorted([
        (sara, "welcome", 100), (john, "welcome", 100), (maryam, "welcome", 100),
        (sara, "birthday", 250), (sara, "referral", 500), (john, "roshan-reviews", 50)])
    assert verify(sqlite_db) == []


def test_the_demo_has_a_member_with_a_complete_profile(sqlite_db: Database) -> None:
    from network import profile

    settings = Settings(database_url=sqlite_db.url, env="test", secret_key="s",
                        timezone="Asia/Tehran")
    demo = build_demo(sqlite_db, settings, now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    sara = sqlite_db.read(profile.get, demo.members[0].id)
    assert sara.complete and sara.city == "Tehran" and sara.completed_at is not None
    assert sara.interests == ("coffee", "travel", "books")
def test_the_demo_runs_a_lottery_and_prints_it(sqlite_db: Database, monkeypatch) -> None:
    from click.testing import CliRunner

    from infra.cli import main
    from network.config import get_settings
    from network.programme import lottery_store

    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()  # the command reads the settings once per process
    try:
        result = CliRunner().invoke(main, ["demo"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    draw = sqlite_db.read(lottery_store.get, "phone-draw")
    assert draw.status == "open" and draw.entry_price == 100
    entries = sqlite_db.read(lottery_store.published_entries, draw.id)
    assert len(entries) == 4
    assert (f"lottery phone-draw (open): Win a new phone, 4 entries, closes "
            f"{draw.closes_at:%Y-%m-%d %H:%M} UTC, commitment {draw.commitment}") in result.output


def test_the_demo_members_hold_stored_tiers_and_gold_was_welcomed(sqlite_db: Database) -> None:
    from network.programme import tiers_store

    settings = Settings(database_url=sqlite_db.url, env="test", secret_key="s",
                        timezone="Asia/Tehran")
    demo = build_demo(sqlite_db, settings, now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    sara, john, maryam = (m.id for m in demo.members)
    held = {m: sqlite_db.read(tiers_store.held, m) for m in (sara, john, maryam)}
    assert (held[sara].code, held[john].code, held[maryam]) == ("gold", "silver", None)
    assert [(c.from_tier, c.to_tier) for c in sqlite_db.read(tiers_store.history, sara)] == [
        ("blue", "gold")]
    ca, c = campaign_awards.c, campaigns.c
    welcomed = sqlite_db.read(lambda conn: conn.execute(
        select(ca.member_id, ca.points).join(campaigns, c.id == ca.campaign_id)
        .where(c.code == "welcome-gold")).all())
    assert [tuple(r) for r in welcomed] == [(sara, 100)]
    # Sara's Thursday at the café carries gold's multiplier, funded by the café.
    tier_parts = sqlite_db.read(lambda conn: conn.execute(
        select(ca.member_id, ca.tier_code).where(ca.tier_code.is_not(None))).all())
    assert (sara, "gold") in [tuple(r) for r in tier_parts]
    assert verify(sqlite_db) == []


def test_the_demo_has_campaigns_that_give_a_reward_and_lottery_entries(
        sqlite_db: Database, monkeypatch) -> None:
    from network.config import get_settings

    # A reward given in an earn tells the member with the process's settings' key (the hub has
    # one key): make it the demo's for this test, and read the settings afresh after it.
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "s")
    get_settings.cache_clear()
    try:
        _a_reward_and_entries_from_the_demo_campaigns(sqlite_db)
    finally:
        get_settings.cache_clear()


def _a_reward_and_entries_from_the_demo_campaigns(sqlite_db: Database) -> None:
    from network.programme import lottery_store, rewards_buy, rewards_store
    from partners.earning import AwardLine, award_points

    settings = Settings(database_url=sqlite_db.url, env="test", secret_key="s",
                        timezone="Asia/Tehran")
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    demo = build_demo(sqlite_db, settings, now=now)
    maryam = demo.members[2].id
    draw = sqlite_db.read(lottery_store.get, "phone-draw")
    held = len(sqlite_db.read(lottery_store.entries_of, maryam, draw.id))

    def buy_at(code: str, key: str) -> None:
        partner = demo.partners[code]
        award_points(sqlite_db, partner_id=partner, line=AwardLine(maryam, 2_000, "EUR"),
                     network_currency="EUR", scope=f"partner:{partner}", idempotency_key=key,
                     now=now + timedelta(hours=1))

    buy_at("bazaar-online", "gift")
    owned = [sqlite_db.read(rewards_store.get, p.reward_id).spec.name_en
             for p in sqlite_db.read(rewards_buy.member_purchases, maryam)]
    assert "Free coffee" in owned
    buy_at("hamrah-telecom", "tickets")
    assert len(sqlite_db.read(lottery_store.entries_of, maryam, draw.id)) == held + 2
    assert verify(sqlite_db) == []
