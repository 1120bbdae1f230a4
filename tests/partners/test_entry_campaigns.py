"""A campaign that gives free lottery entries, booked through the draw's own entry path on
SQLite and PostgreSQL: with a purchase (the earn's entry as their origin) or a fact that gives
nothing else (no ledger entry at all); the campaign's limits and budget count entries; a draw
that closed or a member's full place in it skips the campaign and the earn still books."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from network.clock import utcnow
from network.db.schema import journal_entries
from network.ledger.verify import verify
from network.programme import lottery_store, store
from network.programme.campaigns import Campaign, Limits, LotteryEntries, Trigger, sole_funder
from network.programme.lottery_schema import lottery_entries
from partners.earning import AwardLine, award_points
from tests.partners.conftest import Hub

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _draw(hub: Hub, code: str = "phone", per_member: int = 10) -> lottery_store.Draw:
    now = utcnow()
    return lottery_store.open_draw(
        hub.db, code=code, name_en="A phone", name_fa="یک گوشی", opens_at=now - dt.timedelta(
            hours=1), closes_at=now + dt.timedelta(days=7), entry_price=0,
        max_entries_per_member=per_member, sponsor_party_id=hub.partners["shop"].party_id,
        prizes=[lottery_store.Prize(1, "A phone", "یک گوشی")], now=now - dt.timedelta(hours=1))


def _campaign(hub: Hub, code: str = "tickets", count: int = 2, **values) -> Campaign:
    fields = {"id": 0, "code": code, "name_en": "Phone draw tickets", "name_fa": "بلیت قرعه",
              "trigger": Trigger("purchase"), "effect": LotteryEntries("phone", count),
              "funder": sole_funder(hub.partners["cafe"].party_id), "starts_at": START} | values
    hub.db.write(store.create, Campaign(**fields), owner_party_id=hub.partners["cafe"].party_id)
    return hub.db.write(store.set_status, code, "active").campaign


def _award(hub: Hub, member_id: int, key: str):
    p = hub.partners["cafe"]
    return award_points(hub.db, partner_id=p.party_id, line=AwardLine(member_id, 1000, "EUR"),
                        network_currency="EUR", scope=f"partner:{p.party_id}",
                        idempotency_key=key, now=utcnow())


def _entries(hub: Hub, member_id: int) -> list[tuple]:
    le = lottery_entries.c
    return [tuple(r) for r in hub.db.read(lambda c: c.execute(
        select(le.source, le.granted_by, le.journal_entry_id).where(le.member_id == member_id)
        .order_by(le.id)).all())]


def test_a_purchase_gives_free_entries_named_by_the_campaign_and_the_earn(any_hub: Hub) -> None:
    hub = any_hub
    draw = _draw(hub)
    campaign = _campaign(hub)
    ann = hub.enrol()
    earned = _award(hub, ann.id, "k1")
    assert (earned.points, earned.breakdown, earned.balance) == (100, (), 100)  # no points
    origin = f"campaign:{campaign.id}:entry:{earned.entry_id}"
    assert _entries(hub, ann.id) == [("free", origin, None)] * 2
    # The wallet's lottery section counts the entries the member holds.
    assert len(hub.db.read(lottery_store.entries_of, ann.id, draw.id)) == 2
    assert _award(hub, ann.id, "k1") == earned  # a replay gives nothing more
    assert len(_entries(hub, ann.id)) == 2
    assert verify(hub.db) == []


def test_limits_and_budget_count_entries(any_hub: Hub) -> None:
    hub = any_hub
    _draw(hub)
    _campaign(hub, limits=Limits(per_member_day=4, budget_points=6))
    ann, bob = hub.enrol(), hub.enrol()
    for key in ("a1", "a2", "a3"):  # 2 + 2, then 2 more would pass 4 a day
        _award(hub, ann.id, key)
    assert len(_entries(hub, ann.id)) == 4
    _award(hub, bob.id, "b1")  # the budget's last 2 entries
    _award(hub, bob.id, "b2")  # none left
    assert len(_entries(hub, bob.id)) == 2
    assert hub.db.read(store.get, "tickets").spent_points == 6
    assert verify(hub.db) == []


def test_a_members_full_place_in_the_draw_skips_and_the_earn_books(any_hub: Hub) -> None:
    hub = any_hub
    _draw(hub, per_member=3)
    _campaign(hub)
    ann = hub.enrol()
    _award(hub, ann.id, "k1")
    second = _award(hub, ann.id, "k2")  # 2 + 2 would pass the draw's 3 a member
    assert (second.points, second.balance) == (100, 200)
    assert len(_entries(hub, ann.id)) == 2
    assert hub.db.read(store.get, "tickets").spent_points == 2  # the first award's entries
    assert verify(hub.db) == []


def test_a_fact_that_gives_only_entries_books_no_ledger_entry(any_hub: Hub) -> None:
    hub = any_hub
    _draw(hub)
    campaign = _campaign(hub, code="welcome-tickets", count=1,
                         trigger=Trigger("lifecycle", "enrolled"))
    ann = hub.enrol()
    ((source, granted_by, journal_id),) = _entries(hub, ann.id)
    assert (source, journal_id) == ("free", None)
    assert granted_by.startswith(f"campaign:{campaign.id}:fact:")
    j = journal_entries.c
    assert hub.db.read(lambda c: c.execute(select(func.count()).select_from(journal_entries)
                                           .where(j.member_id == ann.id)).scalar_one()) == 0
    assert verify(hub.db) == []
