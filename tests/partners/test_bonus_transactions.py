"""A partner's `transactions` list what it paid for as BONUS: its campaign's points on another
partner's earn and a fact bonus it funds; its points are the partner's part only; and as
BONUS_REVERSAL such points taken back with their earn. Over signed HTTP, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

from network import parties
from network.clock import utcnow
from network.ledger import reverse_earn
from network.programme import inbox, rewards_store, store
from network.programme.campaigns import (
    Campaign,
    Conditions,
    FixedPoints,
    IssueReward,
    Trigger,
    sole_funder,
)
from network.programme.facts import LifecycleEvent
from network.programme.rewards import RewardSpec
from partners.earning import AwardLine, award_points
from tests.partners.conftest import Hub, operation

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _campaign(hub: Hub, code: str, trigger: Trigger, funder: int, **values) -> None:
    hub.db.write(store.create, Campaign(
        id=0, code=code, name_en=code, name_fa="کمپین " + code, trigger=trigger,
        funder=sole_funder(funder), starts_at=START, **values),
        owner_party_id=funder)
    hub.db.write(store.set_status, code, "active")


def _listed(hub: Hub, code: str, kinds: list[str] | None = None) -> list[tuple]:
    with hub.client(code) as client:
        data = client.execute(operation("Transactions"), {"first": 20, "kinds": kinds})
    return [(e["node"]["kind"], e["node"]["points"])
            for e in data["data"]["partner"]["transactions"]["edges"]]


def test_a_partner_sees_the_points_it_funded_as_bonus(any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    network = hub.db.read(parties.network_party_id)
    # The shop pays 40 points on every café purchase; the network pays a birthday bonus and
    # the shop one of its own on enrolment.
    _campaign(hub, "shop-at-cafe", Trigger("purchase"), shop, effect=FixedPoints(40),
              conditions=Conditions(partners=frozenset({cafe})))
    _campaign(hub, "shop-welcome", Trigger("lifecycle", "enrolled"), shop,
              effect=FixedPoints(15))
    _campaign(hub, "birthday", Trigger("lifecycle", "birthday"), network,
              effect=FixedPoints(200))
    ann = hub.enrol()
    now = utcnow()
    hub.db.write(lambda conn: inbox.record(conn, LifecycleEvent(
        kind="enrolled", member_id=ann.id, at=now), now=now))
    hub.db.write(lambda conn: inbox.record(conn, LifecycleEvent(
        kind="birthday", member_id=ann.id, at=now, attributes={"year": 2026}), now=now))
    award_points(hub.db, partner_id=cafe, line=AwardLine(ann.id, 1_000, "EUR"),
                 network_currency="EUR", scope=f"partner:{cafe}", idempotency_key="b-1",
                 now=utcnow())
    assert _listed(hub, "shop") == [("BONUS", 40), ("BONUS", 15)]
    assert _listed(hub, "shop", ["BONUS"]) == [("BONUS", 40), ("BONUS", 15)]
    assert _listed(hub, "shop", ["EARN"]) == []
    # The café sees its own earn (140 points, 40 of them the shop's), and no BONUS.
    assert _listed(hub, "cafe") == [("EARN", 140)]


def _nodes(hub: Hub, code: str) -> list[dict]:
    with hub.client(code) as client:
        data = client.execute(operation("Transactions"), {"first": 20})
    return [e["node"] for e in data["data"]["partner"]["transactions"]["edges"]]


def test_a_bonus_taken_back_with_its_earn_is_listed_to_the_funder(any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    _campaign(hub, "shop-at-cafe", Trigger("purchase"), shop, effect=FixedPoints(40),
              conditions=Conditions(partners=frozenset({cafe})))
    ann = hub.enrol()
    earned = award_points(hub.db, partner_id=cafe, line=AwardLine(ann.id, 1_000, "EUR"),
                          network_currency="EUR", scope=f"partner:{cafe}",
                          idempotency_key="b-1", now=utcnow())
    reverse_earn(hub.db, scope=f"partner:{cafe}", idempotency_key="r-1", partner_id=cafe,
                 entry_id=earned.entry_id, points=70)  # half of 140: 20 of the shop's 40
    reverse_earn(hub.db, scope=f"partner:{cafe}", idempotency_key="r-2", partner_id=cafe,
                 entry_id=earned.entry_id)
    nodes = _nodes(hub, "shop")
    assert [(n["kind"], n["points"]) for n in nodes] == [
        ("BONUS_REVERSAL", 20), ("BONUS_REVERSAL", 20), ("BONUS", 40)]
    assert nodes[0]["reverses"] == nodes[1]["reverses"] == nodes[2]["id"]
    assert _listed(hub, "shop", ["BONUS_REVERSAL"]) == [("BONUS_REVERSAL", 20)] * 2
    assert _listed(hub, "shop", ["BONUS"]) == [("BONUS", 40)]
    # The café sees its own earn and reversals, no BONUS of either kind.
    assert _listed(hub, "cafe") == [("REVERSE_EARN", 70), ("REVERSE_EARN", 70), ("EARN", 140)]


def test_a_reward_a_campaign_issued_is_the_funders_bonus_and_the_honouring_partners_reward(
        any_hub: Hub) -> None:
    hub = any_hub
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    reward = rewards_store.create(hub.db, partner_id=cafe, spec=RewardSpec(
        kind="coupon", name_en="Free coffee", name_fa="قهوه رایگان", price_points=90),
        scope="staff:1", idempotency_key="r")
    rewards_store.set_status(hub.db, partner_id=cafe, reward_id=reward.id, status="active",
                             scope="staff:1", idempotency_key="s")
    # The shop gives a free coffee at the café with every shop purchase.
    _campaign(hub, "coffee-gift", Trigger("purchase"), shop, effect=IssueReward(reward.id),
              conditions=Conditions(partners=frozenset({shop})))
    ann = hub.enrol()
    award_points(hub.db, partner_id=shop, line=AwardLine(ann.id, 2_000, "EUR"),
                 network_currency="EUR", scope=f"partner:{shop}", idempotency_key="b-1",
                 now=utcnow())
    assert _listed(hub, "shop") == [("EARN", 30 + 90)]  # its own earn: 30 base + the gift
    assert _listed(hub, "cafe") == [("REWARD", 90)]  # the coffee it honours
