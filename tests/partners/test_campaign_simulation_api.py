"""simulateCampaign over HTTP: staff see every partner's sales, a partner only its own. The
documented operations, run as written. History (October 2026, UTC; both partners' clearing price
0.5): m1 café base 100 and 300, m2 shop base 200. A draft giving +50% of base points, funded by
the café, at both: staff replay 3 earns, 50 + 150 + 100 = 300 points, 150 EUR; the café alone
replays its 2 earns, 200 points, 100 EUR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from network import staff
from network.ledger.earning import earn
from partners.client import PartnerAPIError
from tests.partners.conftest import Hub, operation

STAFF = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "staff"
DRAFT = {
    "code": "half-more", "nameEn": "Half as much again", "nameFa": "نیم برابر بیشتر",
    "trigger": {"kind": "purchase"}, "effect": {"kind": "multiplier", "factor": "1.5"},
    "funder": [{"party": "cafe", "share": 10000}], "startsAt": "2027-03-01T00:00:00+00:00",
    "conditions": {"partners": ["cafe", "shop"]},
}


@pytest.fixture
def history(hub: Hub) -> Hub:
    m1, m2 = hub.enrol(), hub.enrol(by="shop")
    cafe, shop = hub.partners["cafe"].party_id, hub.partners["shop"].party_id
    for key, partner, member, amount, points, day in (
            ("a", cafe, m1.id, 1000, 100, 2), ("b", shop, m2.id, 2000, 200, 9),
            ("c", cafe, m1.id, 3000, 300, 20)):
        earn(hub.db, scope="test", idempotency_key=key, issuer_id=partner, member_id=member,
             points=points, details={"amount_minor": amount, "currency": "EUR"},
             now=dt.datetime(2026, 10, day, 12, tzinfo=dt.UTC))
    return hub


def test_staff_simulate_over_every_partners_sales(history: Hub) -> None:
    token = staff.create(history.db, "Vera", {"viewer"})[1]
    response = history.http.post("/graphql", json={
        "query": (STAFF / "SimulateCampaign.graphql").read_text(),
        "variables": {"definition": DRAFT, "period": "2026-10"}},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    s = response.json()["data"]["simulateCampaign"]
    assert (s["period"], s["earnsReplayed"], s["membersReached"], s["timesApplied"],
            s["points"]) == ("2026-10", 3, 2, 3, 300)
    assert s["funders"] == [{"partyCode": "cafe", "points": 300,
                             "clearingPricePerPoint": "0.5", "value": "150",
                             "currency": "EUR"}]
    assert s["budgetExhaustedAt"] is None and s["skipped"] == []
    assert Decimal(s["funders"][0]["value"]) == 300 * Decimal("0.5")


def test_a_partner_simulates_over_its_own_sales_only(history: Hub) -> None:
    s = history.client("cafe").execute(operation("SimulateCampaign"), {
        "definition": DRAFT, "period": "2026-10"})["data"]["partner"]["simulateCampaign"]
    assert (s["earnsReplayed"], s["timesApplied"], s["points"]) == (2, 2, 200)
    assert s["funders"][0]["value"] == "100"


def test_a_bad_draft_or_period_is_an_error_naming_its_field(history: Hub) -> None:
    client = history.client("cafe")
    for variables, code in (({"definition": DRAFT, "period": "2026-13"}, "PERIOD_INVALID"),
                            ({"definition": DRAFT | {"effect": {"kind": "multiplier",
                                                                 "factor": "0"}},
                              "period": "2026-10"}, "MULTIPLIER_OUT_OF_RANGE")):
        try:
            answer = client.execute(operation("SimulateCampaign"), variables)
        except PartnerAPIError as error:
            assert error.code == code
        else:
            assert answer["errors"][0]["extensions"]["code"] == code


def test_points_a_campaign_really_gave_are_not_counted_as_base(hub: Hub) -> None:
    """A partner campaign runs for real (fixed 50 on top of the café's 125 base points for EUR
    12.50); a draft doubling base points then replays over 125, not 175."""
    from network.programme import store

    store.forget_cache()
    own = {"code": "cafe-fifty", "nameEn": "Fifty more", "nameFa": "پنجاه بیشتر",
           "trigger": {"kind": "purchase"}, "effect": {"kind": "fixed", "points": 50},
           "funder": [{"party": "cafe", "share": 10000}],
           "startsAt": "2026-01-01T00:00:00+00:00", "conditions": {"partners": ["cafe"]}}
    cafe = hub.client("cafe")
    assert cafe.execute(operation("CreateCampaign"), {"definition": own})["data"][
        "createCampaign"]["userErrors"] == []
    assert cafe.execute(operation("SetCampaignStatus"), {"code": "cafe-fifty",
                                                         "status": "ACTIVE"})["data"][
        "setCampaignStatus"]["userErrors"] == []
    store.forget_cache()
    member = hub.enrol()
    awarded = cafe.execute(operation("AwardPoints"), {"input": {
        "memberId": None, "cardNumber": member.card_number, "amount": 1250,
        "currency": "EUR"}})["data"]["awardPoints"]
    assert awarded["userErrors"] == [] and awarded["transaction"]["points"] == 175
    double = DRAFT | {"code": "double", "effect": {"kind": "multiplier", "factor": "2"},
                      "conditions": {"partners": ["cafe"]}}
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    s = cafe.execute(operation("SimulateCampaign"), {"definition": double, "period": month})[
        "data"]["partner"]["simulateCampaign"]
    assert (s["earnsReplayed"], s["timesApplied"], s["points"]) == (1, 1, 125)


def test_staff_see_the_rewards_a_reward_campaign_would_issue(history: Hub) -> None:
    """A draft issuing the shop's coupon (price 250, 1 left) on the café's sales: the first café
    earn (2 Oct) takes the last one, the second is REWARD_OUT_OF_STOCK; 250 points of the café,
    honoured by the shop."""
    from network.programme import rewards_store
    from network.programme.rewards import RewardSpec

    shop = history.partners["shop"].party_id
    reward = rewards_store.create(history.db, partner_id=shop, spec=RewardSpec(
        kind="coupon", name_en="Free tote bag", name_fa="کیف رایگان", price_points=250,
        stock=1), scope="staff:1", idempotency_key="r1")
    rewards_store.set_status(history.db, partner_id=shop, reward_id=reward.id, status="active",
                             scope="staff:1", idempotency_key="s1")
    token = staff.create(history.db, "Vera", {"viewer"})[1]
    gift = DRAFT | {"effect": {"kind": "issue_reward", "rewardId": reward.id},
                    "conditions": {"partners": ["cafe"]}}
    response = history.http.post("/graphql", json={
        "query": (STAFF / "SimulateCampaign.graphql").read_text(),
        "variables": {"definition": gift, "period": "2026-10"}},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    s = response.json()["data"]["simulateCampaign"]
    assert (s["timesApplied"], s["points"]) == (1, 250)
    assert s["rewards"] == [{"rewardId": reward.id, "honouredBy": "shop", "pricePoints": 250,
                             "count": 1, "points": 250, "stock": 1,
                             "stockOutAt": "2026-10-02T12:00:00+00:00"}]
    assert s["skipped"] == [{"reason": "REWARD_OUT_OF_STOCK", "count": 1}]
    assert s["draws"] == []
