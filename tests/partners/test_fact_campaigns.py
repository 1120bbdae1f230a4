"""Facts other than purchases trigger campaigns: a partner's custom event (recordEvent over signed
HTTP), the network's lifecycle facts (enrolled, birthday). Each gives exactly once (replays,
re-run jobs), budgets and member limits hold, each funder's points are a lot of its own with the
documented validity, and nothing is booked for a paused or ended campaign or an unmatched
attribute condition. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select

from network import cards, members, parties
from network.clock import add_months, as_utc, utcnow
from network.db.engine import Database
from network.db.schema import journal_entries, lots, member_balances
from network.ledger.verify import verify
from network.programme import birthdays, conversions, event_types, events, fact_awards, store
from network.programme.campaigns import (
    AttributeCondition,
    Campaign,
    Conditions,
    FixedPoints,
    Limits,
    Trigger,
    sole_funder,
    split_funder,
)
from network.programme.campaigns_schema import campaign_awards
from network.programme.schema import member_events
from network.wallet import history
from partners.earning import AwardLine, award_batch, award_points
from tests.partners.conftest import SHOP_TERMS, Hub, operation
from tests.support import ledger_world as w

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
GOOD_REVIEW = Conditions(attributes=(AttributeCondition("rating", at_least=Decimal(4)),))


@pytest.fixture
def hub(any_hub: Hub) -> Iterator[Hub]:
    """The hub with the network's standard event types (an emptied test database has none)."""
    any_hub.db.write(lambda conn: event_types.install_standard(conn, utcnow()))
    yield any_hub


def _campaign(hub: Hub, code: str, trigger: Trigger, **values: Any) -> Campaign:
    network = hub.db.read(parties.network_party_id)
    fields = {"id": 0, "code": code, "name_en": code.title(), "name_fa": "کمپین " + code,
              "trigger": trigger, "effect": FixedPoints(10), "funder": sole_funder(network),
              "starts_at": START} | values
    hub.db.write(store.create, Campaign(**fields), owner_party_id=hub.partners["cafe"].party_id)
    return hub.db.write(store.set_status, code, "active").campaign


def _review(client: Any, key: str, card: str, rating: int) -> dict[str, Any]:
    answer = client.execute(operation("RecordEvent"), {"input": {
        "cardNumber": card, "type": "review", "attributes": {"rating": rating}}},
        idempotency_key=key)
    return answer["data"]["recordEvent"]


def _bonuses(hub: Hub, member_id: int) -> list[tuple[int, int]]:
    """(entry id, points) of the member's bonus entries."""
    j = journal_entries.c
    return [tuple(r) for r in hub.db.read(lambda c: c.execute(  # type: ignore[misc]
        select(j.id, j.points).where(j.member_id == member_id, j.kind == "bonus")
        .order_by(j.id)).all())]


def _lots(hub: Hub, entry_id: int) -> list[tuple[int, int, dt.datetime, dt.datetime | None]]:
    rows = hub.db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, lots.c.points, lots.c.vests_at, lots.c.expires_at)
        .where(lots.c.entry_id == entry_id).order_by(lots.c.id)).all())
    return [(r[0], r[1], as_utc(r[2]), as_utc(r[3]) if r[3] else None) for r in rows]


def _balance(hub: Hub, member_id: int) -> int:
    return int(hub.db.read(lambda c: c.execute(select(member_balances.c.balance).where(
        member_balances.c.member_id == member_id)).scalar_one()))


def _awarded(hub: Hub, campaign_id: int) -> int:
    ca = campaign_awards.c
    return int(hub.db.read(lambda c: c.execute(select(func.coalesce(func.sum(ca.points), 0))
                                               .where(ca.campaign_id == campaign_id))
                           .scalar_one()))


def test_a_good_review_gives_the_partners_bonus_once(hub: Hub) -> None:
    cafe = hub.partners["cafe"].party_id
    network = hub.db.read(parties.network_party_id)
    campaign = _campaign(hub, "reviews", Trigger("event", "review"), effect=FixedPoints(30),
                         funder=split_funder((cafe, 5000), (network, 5000)),
                         conditions=GOOD_REVIEW)
    ann = hub.enrol()
    with hub.client() as client:
        first = _review(client, "review-1", ann.card_number, 5)
        assert first["userErrors"] == []
        assert first["event"]["points"] == 30
        assert [(line["source"], line["campaignCode"], line["funderCode"], line["points"])
                for line in first["event"]["breakdown"]] == [
            ("CAMPAIGN", "reviews", "cafe", 15), ("CAMPAIGN", "reviews", "network", 15)]
        # The retry answers the same, books nothing.
        assert _review(client, "review-1", ann.card_number, 5) == first
        # A rating below 4 matches no campaign: recorded, nothing given.
        poor = _review(client, "review-2", ann.card_number, 3)
        assert (poor["userErrors"], poor["event"]["points"], poor["event"]["breakdown"]) == (
            [], 0, [])
    [(entry_id, points)] = _bonuses(hub, ann.id)
    assert points == 30
    booked = _lots(hub, entry_id)
    assert [(issuer, n) for issuer, n, *_ in booked] == [(cafe, 15), (network, 15)]
    # Each funder's lot vests at once and lasts the shortest validity of the funders: the
    # café's contract says 24 months, the network's default is 24 too.
    vests = booked[0][2]
    assert all(v == vests and e == add_months(vests, 24) for _, _, v, e in booked)
    assert _awarded(hub, campaign.id) == 30
    assert _balance(hub, ann.id) == 30
    assert verify(hub.db) == []




def test_a_welcome_bonus_on_enrolment_once_within_its_budget(hub: Hub) -> None:
    network = hub.db.read(parties.network_party_id)
    welcome = _campaign(hub, "welcome", Trigger("lifecycle", "enrolled"), effect=FixedPoints(100),
                        limits=Limits(budget_points=250))
    ann = hub.enrol()
    [(entry_id, points)] = _bonuses(hub, ann.id)
    assert points == 100
    [(issuer, n, vests, expires)] = _lots(hub, entry_id)
    assert (issuer, n, expires) == (network, 100, add_months(vests, 24))
    # The same enrolment again (its idempotency key) books nothing more.
    again = members.enrol(hub.db, secret=hub.settings.secret_key, scope="system",
                          idempotency_key="enrol-twice", enrolled_by=None,
                          card_number=(card := cards.generate()))
    assert members.enrol(hub.db, secret=hub.settings.secret_key, scope="system",
                         idempotency_key="enrol-twice", enrolled_by=None,
                         card_number=card).id == again.id
    assert [p for _, p in _bonuses(hub, again.id)] == [100]
    # The budget's last 50 points go to the third member, exactly; the fourth gets nothing.
    third, fourth = hub.enrol(), hub.enrol()
    assert [p for _, p in _bonuses(hub, third.id)] == [50]
    assert _bonuses(hub, fourth.id) == []
    assert hub.db.read(store.get, "welcome").spent_points == 250 == _awarded(hub, welcome.id)
    assert verify(hub.db) == []


def test_a_member_limit_holds_for_events(hub: Hub) -> None:
    _campaign(hub, "one-review-a-day", Trigger("event", "review"), effect=FixedPoints(20),
              limits=Limits(per_member_day=1))
    ann = hub.enrol()
    with hub.client() as client:
        assert _review(client, "r1", ann.card_number, 5)["event"]["points"] == 20
        assert _review(client, "r2", ann.card_number, 5)["event"]["points"] == 0
    assert [p for _, p in _bonuses(hub, ann.id)] == [20]
    assert verify(hub.db) == []


def test_a_birthday_bonus_once_a_year_however_often_the_job_runs(hub: Hub) -> None:
    _campaign(hub, "birthday", Trigger("lifecycle", "birthday"), effect=FixedPoints(200))
    ann = members.enrol(hub.db, secret=hub.settings.secret_key, scope="system",
                        idempotency_key="born", enrolled_by=None, card_number=cards.generate(),
                        birth_date=dt.date(1990, 3, 14))
    today = dt.date(2026, 3, 14)
    first = birthdays.raise_due(hub.db, today, zone="Asia/Tehran")
    assert first.raised == [ann.id]
    assert birthdays.raise_due(hub.db, today, zone="Asia/Tehran").raised == []  # re-run
    assert [p for _, p in _bonuses(hub, ann.id)] == [200]
    assert _balance(hub, ann.id) == 200
    assert verify(hub.db) == []


@pytest.mark.parametrize("status", ["paused", "ended"])
def test_nothing_for_a_paused_or_ended_campaign(hub: Hub, status: str) -> None:
    _campaign(hub, "reviews", Trigger("event", "review"), effect=FixedPoints(30))
    hub.db.write(store.set_status, "reviews", status)
    ann = hub.enrol()
    with hub.client() as client:
        answer = _review(client, "r1", ann.card_number, 5)
    assert (answer["userErrors"], answer["event"]["points"]) == ([], 0)
    assert _bonuses(hub, ann.id) == []


def test_a_partner_funded_bonus_lasts_its_contract_validity(hub: Hub) -> None:
    shop = hub.partners["shop"].party_id
    _campaign(hub, "shop-reviews", Trigger("event", "review"), effect=FixedPoints(40),
              funder=sole_funder(shop))
    ann = hub.enrol()
    with hub.client() as client:
        assert _review(client, "r1", ann.card_number, 4)["event"]["points"] == 40
    [(entry_id, _)] = _bonuses(hub, ann.id)
    [(issuer, n, vests, expires)] = _lots(hub, entry_id)
    validity = SHOP_TERMS.validity_months
    assert (issuer, n, expires) == (shop, 40, add_months(vests, validity))
    assert fact_awards.DEFAULT_VALIDITY_MONTHS != validity  # the contract's, not the default


def _enrol(hub: Hub, *, referrer: members.Member | None = None,
           at: dt.datetime | None = None) -> members.Member:
    return members.enrol(hub.db, secret=hub.settings.secret_key, scope="system",
                         idempotency_key=f"enrol-{cards.generate()}", enrolled_by=None,
                         card_number=cards.generate(), now=at,
                         referrer_code=referrer.referral_code if referrer else None)


def _conversions(hub: Hub) -> list[tuple[int, dict[str, Any]]]:
    e = member_events.c
    return [(r.member_id, r.attributes) for r in hub.db.read(lambda c: c.execute(
        select(e.member_id, e.attributes).where(e.type == "referral_converted")
        .order_by(e.id)).all())]


def _earn(hub: Hub, member_id: int, key: str) -> None:
    cafe = hub.partners["cafe"].party_id
    award_points(hub.db, partner_id=cafe, line=AwardLine(member_id, 1000, "EUR"),
                 network_currency="EUR", scope=f"partner:{cafe}", idempotency_key=key,
                 now=utcnow())


def test_a_referred_members_first_earn_rewards_the_referrer_once(hub: Hub) -> None:
    _campaign(hub, "referral", Trigger("lifecycle", "referral_converted"),
              effect=FixedPoints(500))
    sara = _enrol(hub)
    ali = _enrol(hub, referrer=sara)
    plain = _enrol(hub)
    _earn(hub, plain.id, "p1")
    assert _conversions(hub) == []
    _earn(hub, ali.id, "a1")
    _earn(hub, ali.id, "a1")  # the retry
    _earn(hub, ali.id, "a2")  # a second purchase
    assert _conversions(hub) == [(sara.id, {"referredMemberId": ali.id})]
    assert [p for _, p in _bonuses(hub, sara.id)] == [500]  # the referrer's, once
    assert _bonuses(hub, ali.id) == []
    assert verify(hub.db) == []


def test_a_batch_raises_conversions_in_its_booking_transaction(hub: Hub) -> None:
    _campaign(hub, "referral", Trigger("lifecycle", "referral_converted"),
              effect=FixedPoints(500))
    sara = _enrol(hub)
    reza, nima = _enrol(hub, referrer=sara), _enrol(hub, referrer=sara)
    plain = _enrol(hub)
    cafe = hub.partners["cafe"].party_id
    results = award_batch(hub.db, partner_id=cafe, network_currency="EUR",
                          scope=f"partner:{cafe}", idempotency_key="batch-1", now=utcnow(),
                          lines=[AwardLine(m, 1000, "EUR") for m in (reza.id, reza.id,
                                                                      plain.id, nima.id)])
    assert all(r.receipt is not None for r in results)
    assert _conversions(hub) == [(sara.id, {"referredMemberId": reza.id}),
                                 (sara.id, {"referredMemberId": nima.id})]
    assert [p for _, p in _bonuses(hub, sara.id)] == [500, 500]
    _earn(hub, nima.id, "n2")
    assert len(_conversions(hub)) == 2
    assert verify(hub.db) == []


def test_the_common_earn_reads_nothing_to_know_no_referral_is_pending(hub: Hub) -> None:
    hour_ago = utcnow() - dt.timedelta(hours=1)
    sara = _enrol(hub, at=hour_ago)
    ali, plain = _enrol(hub, referrer=sara, at=hour_ago), _enrol(hub, at=hour_ago)
    assert conversions.may_be_pending(hub.db, [plain.id, ali.id, sara.id]) == [ali.id]
    statements: list[str] = []

    def on(*args: Any) -> None:
        statements.append(args[2])

    event.listen(hub.db.engine, "before_cursor_execute", on)
    try:
        assert conversions.may_be_pending(hub.db, [plain.id, sara.id]) == []
        assert statements == []
        # A member enrolled since the set was read is asked about (it may be referred).
        fresh = _enrol(hub, referrer=sara)
        statements.clear()
        assert conversions.may_be_pending(hub.db, [fresh.id]) == [fresh.id]
        assert statements == []  # not yet SETTLE_SECONDS since the read: no reload either
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", on)
    conversions.settled(hub.db, [ali.id])
    assert conversions.may_be_pending(hub.db, [ali.id]) == []


def test_the_members_history_explains_a_fact_bonus(hub: Hub) -> None:
    cafe = hub.partners["cafe"].party_id
    _campaign(hub, "reviews", Trigger("event", "review"), effect=FixedPoints(30),
              funder=sole_funder(cafe), conditions=GOOD_REVIEW)
    ann = hub.enrol()
    with hub.client() as client:
        _review(client, "r1", ann.card_number, 5)
    [entry] = hub.db.read(lambda conn: history.page(conn, ann.id).entries)
    assert (entry.kind, entry.wallet_points, entry.reference) == ("bonus", 30, None)
    assert [(b.source, b.code, b.funder_id, b.points) for b in entry.breakdown] == [
        ("campaign", "reviews", cafe, 30)]  # no base line: a fact has no base points


def test_a_budget_is_never_overspent_by_concurrent_events(pg_db: Database) -> None:
    """16 reviews at once against a budget of 100 points, 30 a review: exactly 100 given."""
    db = pg_db
    db.write(lambda conn: event_types.install_standard(conn, utcnow()))
    cafe = w.partner(db, "cafe")
    db.write(store.create, Campaign(
        id=0, code="reviews", name_en="Reviews", name_fa="نظرها",
        trigger=Trigger("event", "review"), effect=FixedPoints(30),
        funder=sole_funder(db.read(parties.network_party_id)), starts_at=START,
        limits=Limits(budget_points=100)), owner_party_id=cafe)
    db.write(store.set_status, "reviews", "active")
    people = [w.member(db) for _ in range(16)]
    start = threading.Barrier(len(people))

    def review(member_id: int) -> int:
        start.wait()
        recorded = events.record_event(
            db, scope=f"partner:{cafe}", idempotency_key=f"review-{member_id}", partner_id=cafe,
            member_id=member_id, member_field="memberId", type="review",
            attributes={"rating": 5}, occurred_at=None, now=utcnow())
        return recorded.award.points if recorded.award else 0

    with ThreadPoolExecutor(len(people)) as pool:
        given = list(pool.map(review, people))
    assert sum(given) == 100 and sorted(p for p in given if p) == [10, 30, 30, 30]
    assert db.read(store.get, "reviews").spent_points == 100
    ca = campaign_awards.c
    assert db.read(lambda c: c.execute(select(func.sum(ca.points))).scalar_one()) == 100
    assert verify(db) == []


def test_an_enrolments_campaign_reads_the_networks_time_zone(hub: Hub) -> None:
    """22:00 UTC on Friday 13 March 2026 is already Saturday in Tehran."""
    _campaign(hub, "saturday-welcome", Trigger("lifecycle", "enrolled"), effect=FixedPoints(70),
              conditions=Conditions(weekdays=frozenset({5})))
    at = dt.datetime(2026, 3, 13, 22, 0, tzinfo=dt.UTC)

    def enrol(zone: str) -> members.Member:
        return members.enrol(hub.db, secret=hub.settings.secret_key, scope="system",
                             idempotency_key=f"enrol-{zone}", enrolled_by=None,
                             card_number=cards.generate(), now=at, timezone=zone)

    assert [p for _, p in _bonuses(hub, enrol("Asia/Tehran").id)] == [70]
    assert _bonuses(hub, enrol("UTC").id) == []


def test_a_tier_condition_holds_for_events(hub: Hub) -> None:
    _campaign(hub, "silver-reviews", Trigger("event", "review"), effect=FixedPoints(25),
              conditions=Conditions(tiers=frozenset({"silver", "gold", "platinum"})))
    blue, silver = hub.enrol(), hub.enrol()
    cafe = hub.partners["cafe"].party_id
    award_points(hub.db, partner_id=cafe, line=AwardLine(silver.id, 20_000, "EUR"),
                 network_currency="EUR", scope=f"partner:{cafe}", idempotency_key="s1",
                 now=utcnow())  # 2,000 points at 10 a euro: silver
    with hub.client() as client:
        assert _review(client, "b1", blue.card_number, 5)["event"]["points"] == 0
        assert _review(client, "review-s1", silver.card_number, 5)["event"]["points"] == 25
