"""Network staff manage any partner's rewards through the documented operations
(graphql/operations/staff/), over real HTTP with `pointsnet staff` bearer tokens, with the
partners' and the CLI's validation: every problem its own userError, a retry answering the same,
a role other than operator refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from network import staff
from network.programme import rewards_store
from tests.partners.conftest import Hub

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "staff"


def _run(hub: Hub, token: str, name: str, status: int = 200, **variables: Any) -> dict[str, Any]:
    response = hub.http.post("/graphql", json={
        "query": (OPERATIONS / f"{name}.graphql").read_text(), "variables": variables},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def test_staff_publish_edit_and_activate_a_partners_reward(any_hub: Hub) -> None:
    hub = any_hub
    olga = staff.create(hub.db, "Olga", {"operator"})[1]
    draft = {"partnerCode": "shop", "kind": "COUPON", "nameEn": "Tote bag", "nameFa": "کیف",
             "pricePoints": 300, "stock": 5, "idempotencyKey": "create-tote"}
    made = _run(hub, olga, "StaffCreateReward", input=draft)["data"]["staffCreateReward"]
    assert made["userErrors"] == []
    reward = made["reward"]
    assert (reward["status"], reward["pricePoints"], reward["codeSource"]) == (
        "DRAFT", 300, "GENERATED")
    again = _run(hub, olga, "StaffCreateReward", input=draft)["data"]["staffCreateReward"]
    assert again["reward"]["id"] == reward["id"]  # a retry: the same reward, no second one
    assert len(hub.db.read(rewards_store.list_rewards)) == 1

    edited = _run(hub, olga, "StaffUpdateReward", input={
        "rewardId": reward["id"], "pricePoints": 250, "clear": ["stock"],
        "idempotencyKey": "edit-tote"})["data"]["staffUpdateReward"]
    assert (edited["reward"]["pricePoints"], edited["reward"]["stock"]) == (250, None)
    on = _run(hub, olga, "StaffSetRewardStatus", input={
        "rewardId": reward["id"], "status": "ACTIVE",
        "idempotencyKey": "on-tote"})["data"]["staffSetRewardStatus"]
    assert on["reward"]["status"] == "ACTIVE"

    listed = _run(hub, olga, "CatalogRewards", partnerCode="shop", statuses=["ACTIVE"])
    assert [e["node"]["nameEn"] for e in listed["data"]["catalogRewards"]["edges"]] == [
        "Tote bag"]
    assert _run(hub, olga, "CatalogRewards", partnerCode="cafe")["data"]["catalogRewards"][
        "edges"] == []


def test_bad_input_gets_every_problem_and_writes_nothing(any_hub: Hub) -> None:
    hub = any_hub
    olga = staff.create(hub.db, "Olga", {"operator"})[1]
    refused = _run(hub, olga, "StaffCreateReward", input={
        "partnerCode": "shop", "kind": "COUPON", "nameEn": "", "nameFa": "کیف",
        "pricePoints": 0, "idempotencyKey": "bad"})["data"]["staffCreateReward"]
    assert refused["reward"] is None
    assert {(e["field"], e["code"]) for e in refused["userErrors"]} == {
        ("nameEn", "NAME_REQUIRED"), ("pricePoints", "PRICE_NOT_POSITIVE")}
    unknown = _run(hub, olga, "StaffCreateReward", input={
        "partnerCode": "nobody", "kind": "COUPON", "nameEn": "Bag", "nameFa": "کیف",
        "pricePoints": 10, "idempotencyKey": "who"})["data"]["staffCreateReward"]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [
        ("partnerCode", "PARTY_NOT_FOUND")]
    missing = _run(hub, olga, "StaffSetRewardStatus", input={
        "rewardId": "UmV3YXJkOjk5OQ==", "status": "ACTIVE",
        "idempotencyKey": "none"})["data"]["staffSetRewardStatus"]
    assert [e["code"] for e in missing["userErrors"]] == ["REWARD_NOT_FOUND"]
    assert hub.db.read(rewards_store.list_rewards) == []


def test_only_operators_manage_the_catalog(any_hub: Hub) -> None:
    hub = any_hub
    fiona = staff.create(hub.db, "Fiona", {"finance"})[1]
    denied = _run(hub, fiona, "CatalogRewards", status=400)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = _run(hub, fiona, "StaffCreateReward", input={
        "partnerCode": "shop", "kind": "COUPON", "nameEn": "Bag", "nameFa": "کیف",
        "pricePoints": 10, "idempotencyKey": "f"})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hub.db.read(rewards_store.list_rewards) == []
