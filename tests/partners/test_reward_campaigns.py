"""A campaign that issues a catalog reward, booked through the earn (partners.earning, the seam
the API calls) on SQLite and PostgreSQL: the funder issues the reward's price as the campaign's
lot, the same transaction spends exactly that lot on the reward at the honouring partner, a
reward that cannot be given skips the campaign and the earn still books, reversing the earn
refunds an unused coupon; and a monthly settlement run bills the funder and pays the honouring
partner."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from network import member_blocks, parties
from network.clock import utcnow
from network.db.schema import consumptions, lots
from network.ledger import balances, reverse_earn
from network.ledger.verify import verify
from network.programme import explain, reward_grants, rewards_buy, rewards_store, store
from network.programme.campaigns import Campaign, IssueReward, Limits, Trigger, sole_funder
from network.programme.campaigns_schema import campaign_awards
from network.programme.rewards import RewardSpec
from partners.earning import AwardLine, award_points
from settlement import run
from settlement import store as settlement_store
from tests.partners.conftest import Hub, operation

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _reward(hub: Hub, honoured_by: str = "shop", **spec) -> int:
    partner = hub.partners[honoured_by].party_id
    values = {"kind": "coupon", "name_en": "Free tote bag", "name_fa": "کیف رایگان",
              "price_points": 300} | spec
    reward = rewards_store.create(hub.db, partner_id=partner, spec=RewardSpec(**values),
                                  scope="staff:1", idempotency_key=f"r-{values['name_en']}")
    rewards_store.set_status(hub.db, partner_id=partner, reward_id=reward.id, status="active",
                             scope="staff:1", idempotency_key=f"s-{values['name_en']}")
    return reward.id


def _campaign(hub: Hub, reward_id: int, code: str = "gift", **values) -> Campaign:
    fields = {"id": 0, "code": code, "name_en": "Tote bag gift", "name_fa": "هدیه کیف",
              "trigger": Trigger("purchase"), "effect": IssueReward(reward_id),
              "funder": sole_funder(hub.partners["cafe"].party_id), "starts_at": START} | values
    hub.db.write(store.create, Campaign(**fields), owner_party_id=hub.partners["cafe"].party_id)
    return hub.db.write(store.set_status, code, "active").campaign


def _award(hub: Hub, member_id: int, amount: int, key: str, partner: str = "cafe",
           now: dt.datetime | None = None):
    p = hub.partners[partner]
    return award_points(hub.db, partner_id=p.party_id,
                        line=AwardLine(member_id, amount, "EUR"), network_currency="EUR",
                        scope=f"partner:{p.party_id}", idempotency_key=key,
                        now=now or utcnow())


def _remaining(hub: Hub, entry_id: int) -> list[tuple[int, int, int]]:
    return [tuple(r) for r in hub.db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, lots.c.points, lots.c.remaining)
        .where(lots.c.entry_id == entry_id).order_by(lots.c.id)).all())]


def _consumed(hub: Hub, entry_id: int) -> list[tuple]:
    c = consumptions.c
    return [tuple(r) for r in hub.db.read(lambda conn: conn.execute(
        select(c.kind, c.lot_id, c.issuer_party_id, c.sink_party_id, c.points)
        .where(c.entry_id == entry_id).order_by(c.id)).all())]


def _purchases(hub: Hub, member_id: int) -> list[rewards_buy.Purchase]:
    return hub.db.read(rewards_buy.member_purchases, member_id)


def test_the_funder_issues_the_price_and_the_same_lot_pays_the_honouring_partner(
        any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    reward = _reward(hub, stock=2)
    ann = hub.enrol()
    older = _award(hub, ann.id, 1000, "older")  # 100 café points the reward must not touch
    campaign = _campaign(hub, reward)
    earned = _award(hub, ann.id, 1000, "k1")
    assert earned.points == 100 + 300
    assert earned.balance == 100 + 100  # the 300 were spent on the reward at once
    assert [line["source"] for line in earned.breakdown] == ["base", "campaign"]
    assert _remaining(hub, earned.entry_id) == [(cafe, 400, 100)]
    assert _remaining(hub, older.entry_id) == [(cafe, 100, 100)]
    (given,) = _purchases(hub, ann.id)
    assert (given.reward_id, given.partner_id, given.points, given.status) == (
        reward, shop, 300, "issued")
    assert given.code
    lot_id = hub.db.read(lambda c: c.execute(select(lots.c.id).where(
        lots.c.entry_id == earned.entry_id)).scalar_one())
    assert _consumed(hub, given.entry_id) == [("redemption", lot_id, cafe, shop, 300)]
    assert hub.db.read(rewards_store.get, reward).spec.stock == 1
    ca = campaign_awards.c
    assert hub.db.read(lambda c: c.execute(select(ca.campaign_id, ca.points).where(
        ca.entry_id == earned.entry_id)).all()) == [(campaign.id, 300)]
    assert hub.db.read(store.get, "gift").spent_points == 300
    # The explanation names the reward the campaign issued.
    lines = hub.db.read(explain.for_entries, {earned.entry_id: (cafe, earned.points)})
    (_, gift_line) = lines[earned.entry_id]
    assert (gift_line.source, gift_line.reward_en, gift_line.points) == (
        "reward", "Free tote bag", 300)
    answered = hub.db.read(lambda c: explain.from_receipt(
        c, earned.breakdown, issuer_id=cafe, points=earned.points))  # the award's answer
    assert answered == lines[earned.entry_id]
    # A replay answers the first receipt and gives nothing more.
    assert _award(hub, ann.id, 1000, "k1") == earned
    assert len(_purchases(hub, ann.id)) == 1
    assert verify(hub.db) == []


def test_a_reward_that_cannot_be_given_skips_and_the_earn_still_books(any_hub: Hub) -> None:
    hub = any_hub
    reward = _reward(hub, stock=1)
    limited = _reward(hub, name_en="Sticker", per_member_limit=1)
    _campaign(hub, reward)
    _campaign(hub, limited, code="sticker", limits=Limits(budget_points=10_000))
    ann, bob = hub.enrol(), hub.enrol()
    assert _award(hub, ann.id, 1000, "a1").points == 100 + 300 + 300
    second = _award(hub, ann.id, 1000, "a2")  # sold out, and ann has had her sticker
    assert (second.points, second.breakdown, second.balance) == (100, (), 200)
    third = _award(hub, bob.id, 1000, "b1")  # bob still may have a sticker
    assert [line["code"] for line in third.breakdown] == [None, "sticker"]
    assert sorted(p.reward_id for p in _purchases(hub, ann.id)) == sorted([reward, limited])
    assert hub.db.read(store.get, "sticker").spent_points == 600
    assert verify(hub.db) == []


def test_reversing_the_earn_refunds_an_unused_coupon_and_claws_back_everything(
        any_hub: Hub) -> None:
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    reward = _reward(hub, stock=5)
    ann = hub.enrol()
    _award(hub, ann.id, 500, "older")  # 50 points of her own
    _campaign(hub, reward, limits=Limits(budget_points=1_000))
    earned = _award(hub, ann.id, 1000, "k1")
    undone = reverse_earn(hub.db, scope=f"partner:{cafe}", idempotency_key="rev",
                          partner_id=cafe, entry_id=earned.entry_id)
    assert (undone.points, undone.balance, undone.debt) == (400, 50, 0)
    (coupon,) = _purchases(hub, ann.id)
    assert coupon.status == "refunded"
    assert hub.db.read(rewards_store.get, reward).spec.stock == 5
    assert hub.db.read(store.get, "gift").spent_points == 0  # the budget is given back
    assert verify(hub.db) == []


def test_a_used_coupon_stays_and_the_reversal_takes_its_points_from_the_rest(
        any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    reward = _reward(hub)
    ann = hub.enrol()
    _award(hub, ann.id, 5000, "older")  # 500 points of her own
    _campaign(hub, reward)
    earned = _award(hub, ann.id, 1000, "k1")
    (coupon,) = _purchases(hub, ann.id)
    rewards_buy.redeem_coupon(hub.db, partner_id=shop, code=coupon.code, scope=f"partner:{shop}",
                              idempotency_key="till")
    undone = reverse_earn(hub.db, scope=f"partner:{cafe}", idempotency_key="rev",
                          partner_id=cafe, entry_id=earned.entry_id)
    assert (undone.points, undone.balance) == (400, 500 + 100 - 400)
    assert [p.status for p in _purchases(hub, ann.id)] == ["used"]
    assert verify(hub.db) == []


def test_the_monthly_run_bills_the_funder_and_pays_the_honouring_partner(any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    reward = _reward(hub)
    _campaign(hub, reward)
    at = (utcnow() + dt.timedelta(days=40)).replace(day=10, hour=9)
    month = at.strftime("%Y-%m")
    for n in range(2):
        _award(hub, hub.enrol().id, 1000, f"m{n}", now=at)
    preview = run.preview(hub.db, hub.settings, month, now=at + dt.timedelta(days=40))
    assert preview.run.summary["controls"]["discrepancies"] == []
    lines = {(line.payer_party_id, line.payee_party_id, line.kind): line.amount_minor
             for line in hub.db.read(settlement_store.load_lines, preview.run.id)
             if line.amount_minor}
    # Two rewards of 300 café points, honoured by the shop: the café pays the shop for 600
    # points at its clearing price of 0.5 cent a point; nothing else moved between parties.
    assert lines == {(cafe, shop, "redemption"): 300}
    closed = run.close(hub.db, hub.settings, month, now=at + dt.timedelta(days=40))
    nets = {p.party_id: p.net_minor
            for p in hub.db.read(settlement_store.load_positions, closed.run.id) if p.net_minor}
    assert nets == {cafe: -300, shop: 300}


def test_an_earn_that_loses_the_last_stock_is_booked_again_without_the_reward(
        any_hub: Hub, monkeypatch) -> None:
    hub = any_hub
    reward = _reward(hub, stock=0)  # sold out meanwhile: the unlocked reads below missed it
    _campaign(hub, reward)
    ann = hub.enrol()
    real = reward_grants.offers
    locked = []

    def racing(conn, member_id, campaigns, at, *, lock=False):
        found = real(conn, member_id, campaigns, at, lock=lock)
        locked.append(lock)
        return found if lock else {k: v._replace(refusal=None) for k, v in found.items()}

    monkeypatch.setattr(reward_grants.Desk, "offers", staticmethod(racing))
    earned = _award(hub, ann.id, 1000, "k1")
    assert (earned.points, earned.breakdown, earned.balance) == (100, (), 100)
    assert locked[-1] is True  # the retry read the rewards under their lock
    assert _purchases(hub, ann.id) == []
    assert hub.db.read(store.get, "gift").spent_points == 0
    assert verify(hub.db) == []


def test_a_lifecycle_campaign_gives_a_new_member_a_reward(any_hub: Hub) -> None:
    hub = any_hub
    network = hub.db.read(parties.network_party_id)
    shop = hub.partners["shop"].party_id
    reward = _reward(hub, price_points=120)
    _campaign(hub, reward, code="welcome-gift", trigger=Trigger("lifecycle", "enrolled"),
              funder=sole_funder(network))
    ann = hub.enrol()
    (given,) = _purchases(hub, ann.id)
    assert (given.reward_id, given.points, given.status) == (reward, 120, "issued")
    assert _consumed(hub, given.entry_id)[0][2:] == (network, shop, 120)
    assert hub.db.read(lambda c: balances.summary(c, ann.id, utcnow())).total == 0
    assert verify(hub.db) == []


def test_the_signed_award_answer_names_the_reward_issued(any_hub: Hub) -> None:
    hub = any_hub
    reward = _reward(hub)
    _campaign(hub, reward)
    card = hub.enrol().card_number
    with hub.client("cafe") as cafe:
        answer = cafe.execute(operation("AwardPoints"), {"input": {
            "cardNumber": card, "amount": 1000, "currency": "EUR"}})["data"]["awardPoints"]
    assert answer["userErrors"] == [] and answer["balanceAfter"] == 100
    assert [(line["source"], line["campaignCode"], line["rewardName"], line["points"])
            for line in answer["transaction"]["breakdown"]] == [
        ("BASE", None, None, 100), ("REWARD", "gift", "Free tote bag", 300)]


def test_concurrent_earns_issue_exactly_the_stock_on_postgresql(hub: Hub) -> None:
    """16 members earn at once under a campaign whose reward has 5 left: exactly 5 are issued,
    each with its own code, and the other 11 earns book without it."""
    reward = _reward(hub, stock=5)
    _campaign(hub, reward)
    people = [hub.enrol().id for _ in range(16)]
    with ThreadPoolExecutor(len(people)) as pool:
        receipts = list(pool.map(lambda m: _award(hub, m, 1000, f"c-{m}"), people))
    given = [p for m in people for p in _purchases(hub, m)]
    assert len(given) == 5 and len({p.code for p in given}) == 5
    assert sorted(r.points for r in receipts) == [100] * 11 + [400] * 5
    assert all(r.balance == 100 for r in receipts)
    assert hub.db.read(rewards_store.get, reward).spec.stock == 0
    assert hub.db.read(store.get, "gift").spent_points == 5 * 300
    assert verify(hub.db) == []


def test_a_blocked_member_is_given_no_reward_and_the_earn_books(any_hub: Hub) -> None:
    hub = any_hub
    reward = _reward(hub)
    _campaign(hub, reward)
    ann = hub.enrol()
    hub.db.write(lambda c: member_blocks.block(c, ann.id, by="ops", reason="fraud check",
                                               now=utcnow()))
    earned = _award(hub, ann.id, 1000, "k1")
    assert (earned.points, earned.breakdown) == (100, ())
    assert _purchases(hub, ann.id) == []
    assert verify(hub.db) == []
