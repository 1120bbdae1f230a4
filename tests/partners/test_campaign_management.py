"""Partners manage their own campaigns over the signed API, and network staff approve the ones
that reach beyond the partner: the documented operations (graphql/operations/partner and staff),
run exactly as written over HTTP through the real ASGI app on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from network import staff
from network.db.schema import idempotency_keys
from network.programme import store
from network.programme.approval import campaign_approvals
from network.programme.campaigns_schema import campaigns
from partners.client import PartnerAPIError
from tests.partners.conftest import CAFE_TERMS, Hub, operation

STAFF_OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "staff"

OWN = {
    "code": "cafe-pastry", "nameEn": "Pastry bonus", "nameFa": "جایزهٔ شیرینی",
    "trigger": {"kind": "purchase"}, "effect": {"kind": "fixed", "points": 50},
    "funder": [{"party": "cafe", "share": 10000}],
    "startsAt": "2026-06-01T00:00:00+00:00", "conditions": {"partners": ["cafe"]},
    "limits": {"budgetPoints": 5000, "perMemberDay": 1},
}
CO_FUNDED = OWN | {"code": "cafe-shop-double", "nameEn": "Double at both",
                   "effect": {"kind": "multiplier", "factor": "2"},
                   "funder": [{"party": "cafe", "share": 5000}, {"party": "shop", "share": 5000}],
                   "conditions": {"partners": ["cafe", "shop"]}}


def _run(hub: Hub, name: str, as_: str = "cafe", key: str | None = None,
         **variables: Any) -> dict[str, Any]:
    return hub.client(as_).execute(operation(name), variables, idempotency_key=key)


def _staff(hub: Hub, token: str, name: str, **variables: Any) -> dict[str, Any]:
    response = hub.http.post("/graphql", json={
        "query": (STAFF_OPERATIONS / f"{name}.graphql").read_text(), "variables": variables},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _count(hub: Hub, table: Any) -> int:
    return hub.db.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_partner_creates_activates_pauses_and_lists_its_own_campaign(hub: Hub) -> None:
    created = _run(hub, "CreateCampaign", key="c-1", definition=OWN)["data"]["createCampaign"]
    assert created["userErrors"] == []
    c = created["campaign"]
    assert (c["code"], c["status"], c["approval"], c["approvalReasons"]) == (
        "cafe-pastry", "DRAFT", "NOT_NEEDED", [])
    cafe = hub.partners["cafe"].party_id
    assert c["definition"]["funder"] == [{"partyId": cafe, "share": 10000}]
    assert (c["spentPoints"], c["budgetPoints"], c["nameFa"]) == (0, 5000, "جایزهٔ شیرینی")

    # The same request with the same key answers the same campaign and writes nothing more.
    again = _run(hub, "CreateCampaign", key="c-1", definition=OWN)["data"]["createCampaign"]
    assert again["userErrors"] == [] and again["campaign"]["code"] == "cafe-pastry"
    assert _count(hub, campaigns) == 1
    # A different request under that key is refused.
    reused = _run(hub, "CreateCampaign", key="c-1",
                  definition=OWN | {"code": "other"})["data"]["createCampaign"]
    assert reused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"

    active = _run(hub, "SetCampaignStatus", code="cafe-pastry",
                  status="ACTIVE")["data"]["setCampaignStatus"]
    assert active["userErrors"] == [] and active["campaign"]["status"] == "ACTIVE"
    assert hub.db.read(store.get, "cafe-pastry").campaign.status == "active"
    paused = _run(hub, "SetCampaignStatus", code="cafe-pastry",
                  status="PAUSED")["data"]["setCampaignStatus"]
    assert paused["campaign"]["status"] == "PAUSED"

    updated = _run(hub, "UpdateCampaign", code="cafe-pastry",
                   definition=OWN | {"effect": {"kind": "fixed", "points": 80}}
                   )["data"]["updateCampaign"]
    assert updated["userErrors"] == []
    assert updated["campaign"]["definition"]["effect"] == {"kind": "fixed", "points": 80}

    listed = _run(hub, "Campaigns", first=10)["data"]["partner"]["campaigns"]
    assert [e["node"]["code"] for e in listed["edges"]] == ["cafe-pastry"]
    assert listed["pageInfo"]["hasNextPage"] is False
    # Another partner sees none of it, and cannot touch it.
    assert _run(hub, "Campaigns", as_="shop")["data"]["partner"]["campaigns"]["edges"] == []


def test_another_partners_campaign_is_not_found(hub: Hub) -> None:
    _run(hub, "CreateCampaign", definition=OWN)
    client = hub.client("shop")
    moved = client.execute(operation("SetCampaignStatus"), {"code": "cafe-pastry",
                                                            "status": "ENDED"})
    errors = moved["data"]["setCampaignStatus"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("code", "CAMPAIGN_NOT_FOUND")]
    assert hub.db.read(store.get, "cafe-pastry").campaign.status == "draft"


def test_every_problem_of_a_definition_is_a_user_error_with_its_field(hub: Hub) -> None:
    bad = OWN | {"effect": {"kind": "multiplier", "factor": "0"},
                 "limits": {"budgetPoints": 0}}
    refused = _run(hub, "CreateCampaign", definition=bad)["data"]["createCampaign"]
    assert refused["campaign"] is None
    found = {(e["field"], e["code"]) for e in refused["userErrors"]}
    assert ("effect.factor", "MULTIPLIER_OUT_OF_RANGE") in found
    assert ("limits.budgetPoints", "BUDGET_NOT_POSITIVE") in found
    unknown = _run(hub, "CreateCampaign", definition=OWN | {
        "funder": [{"party": "nobody", "share": 10000}]})["data"]["createCampaign"]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [
        ("funder[0].party", "PARTY_UNKNOWN")]
    assert _count(hub, campaigns) == 0
    assert hub.db.read(lambda c: c.execute(select(func.count()).select_from(idempotency_keys)
                                           .where(idempotency_keys.c.scope.like("partner:%"))
                                           ).scalar_one()) == 0


def test_a_key_without_the_campaigns_scope_is_refused_before_anything_runs(hub: Hub) -> None:
    hub.add_partner("kiosk", CAFE_TERMS, scopes="read earn")
    try:
        _run(hub, "CreateCampaign", as_="kiosk", definition=OWN | {"funder": [
            {"party": "kiosk", "share": 10000}], "conditions": {"partners": ["kiosk"]}})
    except PartnerAPIError as error:
        assert (error.status, error.code) == (403, "SCOPE_MISSING")
    else:
        raise AssertionError("a key without the campaigns scope created a campaign")
    assert _count(hub, campaigns) == 0
    try:
        _run(hub, "Campaigns", as_="kiosk")
    except PartnerAPIError as error:
        assert error.code == "FORBIDDEN" and "campaigns" in str(error)
    else:
        raise AssertionError("a key without the campaigns scope listed campaigns")


def test_a_co_funded_campaign_waits_for_the_networks_approval(hub: Hub) -> None:
    created = _run(hub, "CreateCampaign", definition=CO_FUNDED)["data"]["createCampaign"]
    c = created["campaign"]
    assert (c["status"], c["approval"]) == ("DRAFT", "PENDING_APPROVAL")
    assert {(r["field"], r["code"]) for r in c["approvalReasons"]} == {
        ("funder[1].partyId", "FUNDS_OTHER_PARTY"), ("conditions.partners",
                                                      "TOUCHES_OTHER_SALES")}
    early = _run(hub, "SetCampaignStatus", code="cafe-shop-double",
                 status="ACTIVE")["data"]["setCampaignStatus"]
    assert [(e["field"], e["code"]) for e in early["userErrors"]] == [
        ("status", "APPROVAL_REQUIRED")]
    assert hub.db.read(store.get, "cafe-shop-double").campaign.status == "draft"

    viewer = staff.create(hub.db, "Vera", {"viewer"})[1]
    denied = _staff(hub, viewer, "ApproveCampaign", code="cafe-shop-double")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    olga = staff.create(hub.db, "Olga", {"operator"})[1]
    rejected = _staff(hub, olga, "RejectCampaign", code="cafe-shop-double",
                      note="ask shop first")["data"]["rejectCampaign"]
    assert rejected["userErrors"] == []
    assert (rejected["campaign"]["approval"], rejected["campaign"]["approvalNote"]) == (
        "REJECTED", "ask shop first")
    still = _run(hub, "SetCampaignStatus", code="cafe-shop-double",
                 status="ACTIVE")["data"]["setCampaignStatus"]
    assert still["userErrors"][0]["code"] == "CAMPAIGN_REJECTED"
    twice = _staff(hub, olga, "ApproveCampaign", code="cafe-shop-double")["data"]
    assert twice["approveCampaign"]["userErrors"][0]["code"] == "NOT_PENDING_APPROVAL"

    # Changing the definition asks again; the network approves that definition.
    changed = _run(hub, "UpdateCampaign", code="cafe-shop-double", definition=CO_FUNDED | {
        "limits": {"budgetPoints": 4000}})["data"]["updateCampaign"]["campaign"]
    assert changed["approval"] == "PENDING_APPROVAL"
    approved = _staff(hub, olga, "ApproveCampaign",
                      code="cafe-shop-double")["data"]["approveCampaign"]
    assert approved["userErrors"] == [] and approved["campaign"]["approval"] == "APPROVED"
    live = _run(hub, "SetCampaignStatus", code="cafe-shop-double",
                status="ACTIVE")["data"]["setCampaignStatus"]
    assert live["userErrors"] == [] and live["campaign"]["status"] == "ACTIVE"

    # An active campaign cannot take a definition that needs approval again.
    sneaky = _run(hub, "UpdateCampaign", code="cafe-shop-double", definition=CO_FUNDED | {
        "limits": {"budgetPoints": 9000}})["data"]["updateCampaign"]
    assert [(e["field"], e["code"]) for e in sneaky["userErrors"]] == [
        ("definition", "APPROVAL_REQUIRED")]
    assert hub.db.read(store.get, "cafe-shop-double").campaign.limits.budget_points == 4000
    assert _count(hub, campaign_approvals) == 1



def test_the_network_approves_from_the_command_line(hub: Hub, monkeypatch) -> None:
    from click.testing import CliRunner

    from infra.cli import main

    monkeypatch.setenv("POINTSNET_DATABASE_URL", hub.db.url)
    _run(hub, "CreateCampaign", definition=OWN)
    _run(hub, "CreateCampaign", definition=CO_FUNDED)
    waiting = CliRunner().invoke(main, ["campaigns", "pending"]).output.splitlines()
    assert len(waiting) == 1 and waiting[0].startswith("cafe-shop-double  #2  owner=")
    assert waiting[0].endswith("FUNDS_OTHER_PARTY (funder[1].partyId); TOUCHES_OTHER_SALES "
                               "(conditions.partners)")
    early = CliRunner().invoke(main, ["campaigns", "activate", "cafe-shop-double"])
    assert early.exit_code != 0 and "APPROVAL_REQUIRED" in early.output
    assert hub.db.read(store.get, "cafe-shop-double").campaign.status == "draft"
    done = CliRunner().invoke(main, ["campaigns", "approve", "cafe-shop-double"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("approved cafe-shop-double")
    again = CliRunner().invoke(main, ["campaigns", "approve", "cafe-shop-double"])
    assert again.exit_code != 0 and "NOT_PENDING_APPROVAL" in again.output
    assert CliRunner().invoke(main, ["campaigns", "pending"]).output == (
        "nothing awaits approval\n")
    unknown = CliRunner().invoke(main, ["campaigns", "reject", "nope"])
    assert unknown.exit_code != 0 and "CAMPAIGN_NOT_FOUND" in unknown.output
    live = _run(hub, "SetCampaignStatus", code="cafe-shop-double",
                status="ACTIVE")["data"]["setCampaignStatus"]
    assert live["userErrors"] == [] and live["campaign"]["status"] == "ACTIVE"
