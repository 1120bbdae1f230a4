"""The programme over the partner API: awardPoints explains its points (the documented
operation), bad channel and basket input is refused by field, and a campaign's budget is taken
exactly once under concurrent earns over real HTTP (uvicorn, two workers, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from network import parties
from network.db.engine import Database
from network.programme import store
from network.programme.campaigns import (
    Campaign,
    Conditions,
    FixedPoints,
    Limits,
    Multiplier,
    Trigger,
    sole_funder,
    split_funder,
)
from network.programme.campaigns_schema import campaign_awards
from tests.partners.conftest import Hub, gql_body, operation, post_signed
from tests.partners.test_races_http import (  # noqa: F401  (fixtures)
    Net,
    assert_ledger_sound,
    enrol,
    net,
    race,
    server,
)

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _activate(db: Database, campaign: Campaign, owner: int) -> Campaign:
    db.write(store.create, campaign, owner_party_id=owner)
    return db.write(store.set_status, campaign.code, "active").campaign


def _campaign(code: str, funder, **values) -> Campaign:  # type: ignore[no-untyped-def]
    return Campaign(**({"id": 0, "code": code, "name_en": f"{code} en",
                        "name_fa": f"{code} فا", "trigger": Trigger("purchase"),
                        "effect": FixedPoints(10), "funder": funder, "starts_at": START}
                       | values))


def _award(hub: Hub, variables: dict, key: str) -> dict:  # type: ignore[type-arg]
    response = post_signed(hub, gql_body(operation("AwardPoints"), {"input": variables}),
                           idempotency_key=key)
    assert response.status_code == 200, response.text
    return response.json()["data"]["awardPoints"]


def test_award_points_explains_each_line_and_its_funder(any_hub: Hub) -> None:
    hub = any_hub
    cafe = hub.partners["cafe"].party_id
    network = hub.db.read(parties.network_party_id)
    _activate(hub.db, _campaign("pastry-x2", split_funder((cafe, 5000), (network, 5000)),
                                effect=Multiplier(Decimal(2)),
                                conditions=Conditions(categories=frozenset({"pastry"}))), cafe)
    card = hub.enrol().card_number
    answer = _award(hub, {"cardNumber": card, "amount": 2000, "currency": "EUR",
                          "channel": "online",
                          "basket": [{"sku": "croissant", "category": "pastry", "amount": 500},
                                     {"sku": "latte", "category": "coffee", "amount": 1500}]},
                    "explain-1")
    assert answer["userErrors"] == []
    transaction = answer["transaction"]
    # 200 base; double on the pastry quarter of the basket: +50, split 25/25.
    assert transaction["points"] == 250
    assert transaction["breakdown"] == [
        {"source": "BASE", "campaignCode": None, "campaignName": None, "tier": None,
         "rewardName": None, "funderCode": "cafe", "points": 200},
        {"source": "CAMPAIGN", "campaignCode": "pastry-x2", "campaignName": "pastry-x2 en",
         "tier": None, "rewardName": None, "funderCode": "cafe", "points": 25},
        {"source": "CAMPAIGN", "campaignCode": "pastry-x2", "campaignName": "pastry-x2 en",
         "tier": None, "rewardName": None, "funderCode": "network", "points": 25}]
    # The replay answers the same explanation; a plain earn is one BASE line.
    assert _award(hub, {"cardNumber": card, "amount": 2000, "currency": "EUR",
                        "channel": "online",
                        "basket": [{"sku": "croissant", "category": "pastry", "amount": 500},
                                   {"sku": "latte", "category": "coffee", "amount": 1500}]},
                  "explain-1")["transaction"] == transaction
    plain = _award(hub, {"cardNumber": card, "amount": 300, "currency": "EUR"}, "explain-2")
    assert plain["transaction"]["breakdown"] == [
        {"source": "BASE", "campaignCode": None, "campaignName": None, "tier": None,
         "rewardName": None, "funderCode": "cafe", "points": 30}]


@pytest.mark.parametrize(("extra", "field"), [
    ({"channel": "fax"}, "channel"),
    ({"basket": [{"sku": "", "category": "pastry", "amount": 1}]}, "basket.0.sku"),
    ({"basket": [{"sku": "a", "category": "pastry", "amount": -1}]}, "basket.0.amount"),
    ({"basket": [{"sku": "a", "category": "pastry", "amount": 1, "quantity": 0}]},
     "basket.0.quantity"),
    ({"basket": [{"sku": "a", "category": "pastry", "amount": 99999}]}, "basket"),
])
def test_bad_channel_or_basket_is_refused_by_field_and_writes_nothing(
        hub: Hub, extra: dict, field: str) -> None:  # type: ignore[type-arg]
    card = hub.enrol().card_number
    before = hub.ledger_counts()
    answer = _award(hub, {"cardNumber": card, "amount": 1000, "currency": "EUR", **extra},
                    "bad-1")
    assert answer["transaction"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [(field, "INVALID_INPUT")]
    assert hub.ledger_counts() == before


BUDGET = 10_000


def test_a_budget_is_never_overspent_by_concurrent_earns_over_http(net: Net) -> None:  # noqa: F811
    network = net.db.read(parties.network_party_id)
    campaign = _activate(net.db, _campaign("race", sole_funder(network),
                                           effect=FixedPoints(700),
                                           limits=Limits(budget_points=BUDGET)),
                         net.partners["cafe"].party_id)
    # The workers re-read the programme's version at most every VERSION_TTL seconds: let that
    # pass so every worker books with the campaign (the assertion below would fail otherwise).
    time.sleep(store.VERSION_TTL * 1.5)
    cards = [enrol(net) for _ in range(16)]
    answers = race(*(net.calling("cafe", "AwardPoints",
                                 {"input": {"cardNumber": card, "amount": 100,
                                            "currency": "EUR"}}, f"race-{i}")
                     for i, card in enumerate(cards)))
    assert all(a["userErrors"] == [] for a in answers)
    extra = sorted(a["transaction"]["points"] - 10 for a in answers)
    # 16 x 700 = 11,200 asked of 10,000: fourteen full awards, one capped at 200, one nothing.
    assert extra == [0, 200] + [700] * 14
    assert net.db.read(store.get, "race").spent_points == BUDGET
    awarded = net.db.read(lambda c: c.execute(
        select(func.sum(campaign_awards.c.points))
        .where(campaign_awards.c.campaign_id == campaign.id)).scalar_one())
    assert awarded == BUDGET
    assert_ledger_sound(net.db)


def test_a_budget_in_slots_is_spent_to_its_last_point_by_concurrent_earns(net: Net) -> None:  # noqa: F811
    """Three earns per member, 16 members, all at once: each member's slot (625 of the 10,000)
    covers two 300-point awards in the one statement, the third falls over to the other slots
    under their locks, and the campaign stops exactly at its budget."""
    network = net.db.read(parties.network_party_id)
    campaign = _activate(net.db, _campaign("slots", sole_funder(network),
                                           effect=FixedPoints(300),
                                           limits=Limits(budget_points=BUDGET)),
                         net.partners["cafe"].party_id)
    time.sleep(store.VERSION_TTL * 1.5)  # every worker books with the campaign
    cards = [enrol(net) for _ in range(16)]
    answers = race(*(net.calling("cafe", "AwardPoints",
                                 {"input": {"cardNumber": card, "amount": 100,
                                            "currency": "EUR"}}, f"slots-{n}-{i}")
                     for n in range(3) for i, card in enumerate(cards)))
    assert all(a["userErrors"] == [] for a in answers)
    extra = sorted(a["transaction"]["points"] - 10 for a in answers)
    # 48 x 300 = 14,400 asked of 10,000: 33 full awards, one of the last 100, the rest nothing.
    assert extra == [0] * 14 + [100] + [300] * 33
    assert net.db.read(store.get, "slots").spent_points == BUDGET
    awarded = net.db.read(lambda c: c.execute(
        select(func.sum(campaign_awards.c.points))
        .where(campaign_awards.c.campaign_id == campaign.id)).scalar_one())
    assert awarded == BUDGET
    assert_ledger_sound(net.db)
