"""Simulating a draft that issues a catalog reward or gives lottery entries: the replay counts the
rewards issued (their price, the honouring partner), the stock running out, the members' limits
and the budget, and the entries per draw, as the earn would have.

The pure replay first, on figures worked out by hand; then the same through `run` (the catalog
read at the edge) on both databases, the GraphQL field and the command line's lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from network import cards, members
from network.ledger.earning import earn
from network.programme import lottery_store, rewards_store, simulation
from network.programme.campaigns import (
    Campaign,
    IssueReward,
    Limits,
    LotteryEntries,
    Trigger,
    sole_funder,
)
from network.programme.facts import MemberState
from network.programme.management import CampaignRefused
from network.programme.rewards import RewardSpec, Visibility
from network.programme.rules import Programme
from partners.campaign_simulation import run
from partners.campaigns_cli import report_lines
from partners.registry import create_partner
from partners.terms import Terms

UTC = dt.UTC
CAFE, SHOP, NETWORK = 2, 3, 1
PERIOD = simulation.Period("2026-10", dt.datetime(2026, 10, 1, tzinfo=UTC),
                           dt.datetime(2026, 11, 1, tzinfo=UTC))
PROGRAMME = Programme(ZoneInfo("UTC"), NETWORK, tiers=())


def _day(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, tzinfo=UTC)


def _earn(entry: int, member: int, day: int, base: int = 100) -> simulation.PastEarn:
    return simulation.PastEarn(entry, member, CAFE, base * 10, "EUR", "in_store", (), base,
                               _day(day))


def _draft(effect, **limits) -> Campaign:  # type: ignore[no-untyped-def]
    return Campaign(7, "draft", "Draft", "پیش‌نویس", Trigger("purchase"), effect,
                    sole_funder(CAFE), _day(1), limits=Limits(**limits))


# m1 3 Oct, m1 4 Oct, m2 10 Oct, m3 11 Oct, m4 12 Oct.
EARNS = [_earn(1, 11, 3), _earn(2, 11, 4), _earn(3, 12, 10), _earn(4, 13, 11), _earn(5, 14, 12)]


def _replay(draft: Campaign, catalog: simulation.Catalog, *, earns=EARNS,  # type: ignore[no-untyped-def]
            members_now=None) -> simulation.Simulation:
    return simulation.simulate(draft, earns, period=PERIOD, programme=PROGRAMME,
                               members=members_now or {}, prices={CAFE: Decimal("0.40")},
                               catalog=catalog)


def test_a_reward_is_issued_at_its_price_until_its_stock_runs_out() -> None:
    """Stock 3, one per member: m1 gets one, m1 again REWARD_LIMIT, m2 and m3 one each (the
    stock runs out at m3's earn, 11 Oct), m4 REWARD_OUT_OF_STOCK. Price 300: 900 points, all
    the café's (0.40 a point: 360.00), taken by the shop that honours the reward."""
    catalog = simulation.Catalog(rewards={5: simulation.RewardTerms(
        5, SHOP, 300, stock=3, per_member_limit=1)})
    result = _replay(_draft(IssueReward(5)), catalog)
    assert (result.earns_replayed, result.times_applied, result.members_reached,
            result.points) == (5, 3, 3, 900)
    assert result.rewards == (simulation.RewardsIssued(5, SHOP, 300, 3, 3, _day(11)),)
    assert result.rewards[0].points == 900
    assert result.funders == (simulation.FunderCost(CAFE, 900, Decimal("0.40"),
                                                    Decimal("360.00")),)
    assert result.skipped == {"REWARD_LIMIT": 1, "REWARD_OUT_OF_STOCK": 1}
    assert result.budget_exhausted_at is None and result.draws == ()


def test_an_unlimited_reward_stops_at_the_budget_and_a_tier_reward_reaches_its_tier() -> None:
    """Budget 700 at 300 a reward: two are issued (600), and the budget is used up at the second
    (100 left cannot pay a third); the rest are BUDGET_EXHAUSTED. Visible to gold only: m1, not
    gold, is REWARD_NOT_VISIBLE."""
    catalog = simulation.Catalog(rewards={5: simulation.RewardTerms(
        5, SHOP, 300, stock=None, visibility=Visibility(tiers=("gold",)))})
    gold = {m: MemberState(m, "gold") for m in (12, 13, 14)}
    result = _replay(_draft(IssueReward(5), budget_points=700), catalog,
                     members_now={11: MemberState(11, "silver"), **gold})
    assert (result.times_applied, result.points) == (2, 600)
    assert result.rewards == (simulation.RewardsIssued(5, SHOP, 300, 2, None, None),)
    assert result.budget_exhausted_at == _day(11)
    assert result.skipped == {"BUDGET_EXHAUSTED": 1, "REWARD_NOT_VISIBLE": 2}


def test_entries_are_counted_per_draw_within_the_draws_limit_and_the_budget() -> None:
    """2 entries an earn, at most 3 a member, a budget of 5 entries: m1 2, m1 again DRAW_LIMIT,
    m2 2 (4 given, 1 left cannot pay 2: used up on 10 Oct), m3 and m4 BUDGET_EXHAUSTED. Entries
    cost no points."""
    catalog = simulation.Catalog(draws={"phone": simulation.DrawTerms("phone", 3)})
    result = _replay(_draft(LotteryEntries("phone", 2), budget_points=5), catalog)
    assert (result.times_applied, result.members_reached, result.points, result.funders) == (
        2, 2, 0, ())
    assert result.draws == (simulation.DrawEntries("phone", 4, 2),)
    assert result.budget_exhausted_at == _day(10)
    assert result.skipped == {"BUDGET_EXHAUSTED": 2, "DRAW_LIMIT": 1}


def test_a_reward_or_draw_missing_from_the_catalog_is_skipped_as_the_earn_skips_it() -> None:
    assert _replay(_draft(IssueReward(5)), simulation.NO_CATALOG).skipped == {
        "REWARD_UNKNOWN": 5}
    assert _replay(_draft(LotteryEntries("phone", 1)), simulation.NO_CATALOG).skipped == {
        "DRAW_CLOSED": 5}


def test_the_command_line_lines_name_the_rewards_and_the_entries() -> None:
    catalog = simulation.Catalog(rewards={5: simulation.RewardTerms(5, SHOP, 300, stock=3,
                                                                    per_member_limit=1)})
    lines = report_lines(_replay(_draft(IssueReward(5)), catalog), "EUR")
    assert (f"reward 5 honoured by {SHOP}: 3 issued at 300 points = 900 points, stock 3, "
            f"out 2026-10-11T10:00:00+00:00") in lines
    entries = _replay(_draft(LotteryEntries("phone", 2)),
                      simulation.Catalog(draws={"phone": simulation.DrawTerms("phone", 3)}))
    assert "draw phone: 8 entries to 4 members" in report_lines(entries, "EUR")


# ---- through the database: the catalog read at the edge --------------------------------------

NOW = dt.datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def shelf(db):  # type: ignore[no-untyped-def]
    """The café and the shop; a coupon the shop honours (price 300, 2 left); a draw; three
    members who each earned once at the café in October."""
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)

    def setup(conn):  # type: ignore[no-untyped-def]
        cafe = create_partner(conn, code="cafe", name="Cafe", now=start, terms=Terms(
            earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("0.40")))
        shop = create_partner(conn, code="shop", name="Shop", now=start, terms=Terms(
            earn_points_per_unit=Decimal(10), clearing_price_per_point=Decimal("0.25")))
        return cafe.id, shop.id

    cafe, shop = db.write(setup)
    reward = rewards_store.create(db, partner_id=shop, spec=RewardSpec(
        kind="coupon", name_en="Free tote bag", name_fa="کیف رایگان", price_points=300,
        stock=2), scope="staff:1", idempotency_key="r1")
    rewards_store.set_status(db, partner_id=shop, reward_id=reward.id, status="active",
                             scope="staff:1", idempotency_key="s1")
    lottery_store.open_draw(
        db, code="phone", name_en="A phone", name_fa="یک گوشی", opens_at=NOW,
        closes_at=NOW + dt.timedelta(days=30), entry_price=0, max_entries_per_member=5,
        sponsor_party_id=shop, prizes=[lottery_store.Prize(1, "A phone", "یک گوشی")], now=NOW)
    for i in range(3):
        member = members.enrol(db, secret="s", scope="system", idempotency_key=f"m{i}",
                               enrolled_by=cafe, card_number=cards.generate()).id
        earn(db, scope="test", idempotency_key=f"e{i}", issuer_id=cafe, member_id=member,
             points=100, now=_day(3 + i), details={"amount_minor": 1000, "currency": "EUR"})
    return db, cafe, shop, reward.id


def _document(effect: dict) -> dict:
    return {"code": "draft-gift", "nameEn": "Tote bag gift", "nameFa": "هدیه کیف",
            "trigger": {"kind": "purchase"}, "effect": effect,
            "funder": [{"party": "cafe", "share": 10000}],
            "startsAt": "2027-01-01T00:00:00+00:00", "conditions": {"partners": ["cafe"]}}


def test_run_reads_the_rewards_stock_and_the_draw_and_replays_them(shelf) -> None:  # type: ignore[no-untyped-def]
    db, cafe, shop, reward_id = shelf
    gift = run(db, _document({"kind": "issue_reward", "rewardId": reward_id}), "2026-10",
               timezone="UTC", now=NOW)
    assert gift.rewards == (simulation.RewardsIssued(reward_id, shop, 300, 2, 2, _day(4)),)
    assert (gift.times_applied, gift.points, gift.skipped) == (2, 600,
                                                               {"REWARD_OUT_OF_STOCK": 1})
    assert gift.funders == (simulation.FunderCost(cafe, 600, Decimal("0.40"), Decimal("240.00")),)
    tickets = run(db, _document({"kind": "lottery_entries", "drawCode": "phone", "count": 2}),
                  "2026-10", timezone="UTC", now=NOW)
    assert tickets.draws == (simulation.DrawEntries("phone", 6, 3),)
    assert (tickets.times_applied, tickets.points, tickets.skipped) == (3, 0, {})


def test_a_draft_naming_no_reward_is_refused_before_any_replay(shelf) -> None:  # type: ignore[no-untyped-def]
    db, *_ = shelf
    with pytest.raises(CampaignRefused) as refused:
        run(db, _document({"kind": "issue_reward", "rewardId": 999}), "2026-10",
            timezone="UTC", now=NOW)
    assert (refused.value.field, refused.value.code) == ("effect.rewardId", "REWARD_UNKNOWN")
