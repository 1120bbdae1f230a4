"""The catalog over the real ASGI app: a partner publishes a reward and uploads codes (signed,
scope `rewards`), a member buys with a bearer token, the till redeems; each documented
operation as partners and members copy it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from network import ledger
from network.clock import utcnow
from network.hashing import Keys
from network.ledger.verify import verify
from network.programme.rewards_schema import reward_codes
from network.signin import sessions
from partners.client import PartnerAPIError, PartnerClient
from partners.keys import create_key
from tests.partners.conftest import Hub, operation

MEMBER_OPS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "member"


def partner_call(hub: Hub, code: str, name: str, variables: dict[str, Any],
                 key: str | None = None) -> dict[str, Any]:
    answer = hub.client(code).execute(operation(name), variables, idempotency_key=key)
    assert "errors" not in answer, answer
    return answer["data"]


def member_token(hub: Hub, member_id: int) -> str:
    return hub.db.write(lambda c: sessions.create(
        c, Keys(hub.settings.secret_key), member_id=member_id, kind="bearer", now=utcnow(),
        user_agent="test", ip="127.0.0.1"))[0]


def member_call(hub: Hub, token: str, name: str, variables: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    query = (MEMBER_OPS / f"{name}.graphql").read_text()
    response = hub.http.post("/graphql", json={"query": query, "variables": variables or {}},
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def publish(hub: Hub, code: str = "shop", **fields: Any) -> str:
    answer = partner_call(hub, code, "CreateReward", {"input": {
        "kind": "COUPON", "nameEn": "10% off", "nameFa": "۱۰٪ تخفیف", "pricePoints": 200,
        "descriptionEn": "On anything", "descriptionFa": "روی همه چیز", **fields}})
    created = answer["createReward"]
    assert created["userErrors"] == [], created
    reward_id = created["reward"]["id"]
    status = partner_call(hub, code, "SetRewardStatus", {"rewardId": reward_id,
                                                         "status": "ACTIVE"})
    assert status["setRewardStatus"]["reward"]["status"] == "ACTIVE"
    return reward_id


def funded_member(hub: Hub, points: int = 1000) -> tuple[int, str]:
    m = hub.enrol()
    ledger.earn(hub.db, scope="test", idempotency_key=f"seed-{m.id}",
                issuer_id=hub.partners["cafe"].party_id, member_id=m.id, points=points)
    return m.id, member_token(hub, m.id)


def test_publish_buy_and_redeem_at_the_till(any_hub: Hub) -> None:
    hub = any_hub
    reward_id = publish(hub, "shop", codeSource="POOL", stock=10, perMemberLimit=2)
    bad = partner_call(hub, "shop", "UploadRewardCodes",
                       {"rewardId": reward_id, "csv": "code\nSHOP-0001\nshop0001\n!\n"})
    assert [(e["field"], e["code"]) for e in bad["uploadRewardCodes"]["userErrors"]] == [
        ("csv.line3", "CODE_DUPLICATE_IN_FILE"), ("csv.line4", "CODE_MALFORMED")]
    assert hub.db.read(lambda c: c.execute(select(reward_codes)).all()) == []
    good = partner_call(hub, "shop", "UploadRewardCodes",
                        {"rewardId": reward_id, "csv": "SHOP-0001\nSHOP-0002\n"})
    assert good["uploadRewardCodes"]["added"] == 2
    assert good["uploadRewardCodes"]["reward"]["freeCodes"] == 2

    member_id, token = funded_member(hub)
    catalog = member_call(hub, token, "Catalog", {"partner": "shop"})["me"]["catalog"]
    assert catalog["spendable"] == 1000
    [offer] = catalog["rewards"]
    assert (offer["id"], offer["partnerCode"], offer["affordable"]) == (reward_id, "shop", True)
    assert member_call(hub, token, "Catalog", {"partner": "cafe"})["me"]["catalog"]["rewards"] \
        == []
    bought = member_call(hub, token, "BuyReward",
                         {"rewardId": reward_id, "idempotencyKey": "tap-1"})["buyReward"]
    assert bought["userErrors"] == []
    coupon = bought["reward"]
    assert coupon["code"] == "SHOP0001" and coupon["status"] == "ISSUED"
    assert coupon["codeQrSvg"].startswith("<svg")
    again = member_call(hub, token, "BuyReward", {"rewardId": reward_id,
                                                  "idempotencyKey": "tap-1"})["buyReward"]
    assert again["reward"]["id"] == coupon["id"]

    other = partner_call(hub, "cafe", "RedeemCoupon", {"code": "shop-0001"})["redeemCoupon"]
    assert [e["code"] for e in other["userErrors"]] == ["COUPON_OTHER_PARTNER"]
    unknown = partner_call(hub, "shop", "RedeemCoupon", {"code": "SHOP-0002"})["redeemCoupon"]
    assert [e["code"] for e in unknown["userErrors"]] == ["COUPON_UNKNOWN"]  # never sold
    used = partner_call(hub, "shop", "RedeemCoupon", {"code": "shop-0001"})["redeemCoupon"]
    assert used["userErrors"] == [] and used["coupon"]["status"] == "USED"
    twice = partner_call(hub, "shop", "RedeemCoupon", {"code": "SHOP0001"})["redeemCoupon"]
    assert [e["code"] for e in twice["userErrors"]] == ["COUPON_ALREADY_USED"]

    mine = member_call(hub, token, "MyRewards")["me"]["rewards"]
    assert [(r["status"], r["code"]) for r in mine] == [("USED", "SHOP0001")]
    second = member_call(hub, token, "BuyReward",
                         {"rewardId": reward_id, "idempotencyKey": "tap-2"})["buyReward"]
    refunded = partner_call(hub, "shop", "RefundCoupon",
                            {"code": second["reward"]["code"]})["refundCoupon"]
    assert refunded["coupon"]["status"] == "REFUNDED"
    seen = partner_call(hub, "shop", "Transactions", {"first": 10})["partner"]["transactions"]
    kinds = [edge["node"]["kind"] for edge in seen["edges"]]
    assert kinds == ["REVERSE_REDEMPTION", "REWARD", "REWARD"]  # newest first
    listed = partner_call(hub, "shop", "Rewards", {})["partner"]["rewards"]["edges"]
    assert [(e["node"]["sold"], e["node"]["stock"]) for e in listed] == [(2, 9)]
    assert verify(hub.db) == []


def test_refusals_are_user_errors_naming_fields(any_hub: Hub) -> None:
    hub = any_hub
    answer = partner_call(hub, "shop", "CreateReward", {"input": {
        "kind": "GIFT_CARD", "nameEn": "", "nameFa": "کارت", "pricePoints": 0,
        "visibleToTiers": ["diamond"]}})["createReward"]
    assert answer["reward"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [
        ("nameEn", "NAME_REQUIRED"), ("pricePoints", "PRICE_NOT_POSITIVE"),
        ("visibility.tiers", "TIER_UNKNOWN"), ("valueMinor", "VALUE_REQUIRED"),
        ("currency", "INVALID_CURRENCY")]
    reward_id = publish(hub, "shop", stock=1)
    theirs = partner_call(hub, "cafe", "UpdateReward",
                          {"input": {"rewardId": reward_id, "pricePoints": 1}})["updateReward"]
    assert [e["code"] for e in theirs["userErrors"]] == ["REWARD_NOT_FOUND"]
    _, poor = funded_member(hub, points=50)
    refused = member_call(hub, poor, "BuyReward",
                          {"rewardId": reward_id, "idempotencyKey": "x"})["buyReward"]
    assert refused["reward"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_POINTS"]
    _, rich = funded_member(hub)
    assert member_call(hub, rich, "BuyReward", {"rewardId": reward_id,
                                                "idempotencyKey": "a"})["buyReward"]["reward"]
    sold_out = member_call(hub, rich, "BuyReward",
                           {"rewardId": reward_id, "idempotencyKey": "b"})["buyReward"]
    assert [e["code"] for e in sold_out["userErrors"]] == ["OUT_OF_STOCK"]
    junk = member_call(hub, rich, "BuyReward", {"rewardId": "nope",
                                                "idempotencyKey": "c"})["buyReward"]
    assert [e["code"] for e in junk["userErrors"]] == ["REWARD_NOT_FOUND"]


def test_a_key_without_the_rewards_scope_is_refused(hub: Hub) -> None:
    now = utcnow()
    party = hub.partners["shop"].party_id
    key, pem = hub.db.write(lambda c: create_key(c, party_id=party, now=now,
                                                 scopes="read redeem"))
    client = PartnerClient("http://hub.test", key.key_id, pem, http_client=hub.http, backoff=0)
    with pytest.raises(PartnerAPIError) as refused:
        client.execute(operation("RedeemCoupon"), {"code": "ANY-CODE"})
    assert (refused.value.status, refused.value.code) == (403, "SCOPE_MISSING")


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
       b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
       b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def test_an_uploaded_picture_is_served_to_members(any_hub: Hub) -> None:
    import base64

    hub = any_hub
    bad = partner_call(hub, "shop", "CreateReward", {"input": {
        "kind": "COUPON", "nameEn": "x", "nameFa": "y", "pricePoints": 5,
        "imageBase64": base64.b64encode(b"<svg/>").decode()}})["createReward"]
    assert [e["code"] for e in bad["userErrors"]] == ["IMAGE_INVALID"]
    reward_id = publish(hub, "shop", imageBase64=base64.b64encode(PNG).decode())
    m = hub.enrol()
    token = hub.db.write(lambda c: sessions.create(
        c, Keys(hub.settings.secret_key), member_id=m.id, kind="cookie", now=utcnow(),
        user_agent="test", ip="127.0.0.1"))[0]
    from network.web import cookies
    hub.http.cookies.set(cookies.name(hub.settings, cookies.SESSION), token)
    page = hub.http.get("/wallet/rewards")
    assert page.status_code == 200
    from graphql_relay import from_global_id
    number = from_global_id(reward_id)[1]
    assert f'src="/wallet/rewards/{number}/picture"' in page.text
    served = hub.http.get(f"/wallet/rewards/{number}/picture")
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    cleared = partner_call(hub, "shop", "UpdateReward", {"input": {
        "rewardId": reward_id, "clear": ["image"]}})["updateReward"]
    assert cleared["userErrors"] == []
    assert hub.http.get(f"/wallet/rewards/{number}/picture").status_code == 404
