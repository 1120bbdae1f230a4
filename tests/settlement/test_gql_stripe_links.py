"""Finance staff link parties to Stripe over GraphQL, through the hub's ASGI app (real HTTP),
with the local Stripe stand-in (settlement/payouts/local_stripe.py) behind the hub."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import staff
from network.config import Settings
from network.db.engine import Database
from network.parties import network_party_id
from settlement.payouts.local_stripe import StripeConnectServer
from tests.settlement.test_gql import post
from tests.settlement.test_payouts_linking import stripe_ids
from tests.settlement.world import World, build

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "staff"
LINK, ONBOARD, CUSTOMER, PARTIES = (
    (OPERATIONS / f"{name}.graphql").read_text()  # documented, run exactly as written
    for name in ("LinkPartyToStripe", "CreatePartyOnboardingLink", "CreatePartyStripeCustomer",
                 "SettlementParties"))


@pytest.fixture
def standin() -> Iterator[StripeConnectServer]:
    with StripeConnectServer() as server:
        yield server


@pytest.fixture
def hub(pg_db: Database, standin: StripeConnectServer) -> tuple[World, TestClient, str]:
    world = build(pg_db, pg_db.read(network_party_id), reversal=False)
    settings = Settings(database_url=pg_db.url, env="test", secret_key="gql-secret",
                        extra={"STRIPE_API_KEY": "sk_test_gql", "STRIPE_API_BASE": standin.url})
    _, token = staff.create(world.db, "Fiona", {"finance"})
    return world, TestClient(create_app(settings, pg_db), base_url="http://hub.test"), token


def test_link_with_field_errors_and_nothing_written(hub) -> None:
    world, http, token = hub
    before = stripe_ids(world.db)
    bad = post(http, LINK, token, **{"input": {"party": "cafe", "stripeAccountId": "acct_Ok1",
                                            "stripeCustomerId": "cust_9"}}).json()
    payload = bad["data"]["linkPartyToStripe"]
    assert payload["party"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("stripeCustomerId", "BAD_STRIPE_CUSTOMER_ID")]
    assert "cust_9" in payload["userErrors"][0]["message"]
    assert stripe_ids(world.db) == before
    unknown = post(http, LINK, token, **{"input": {"party": "ghost", "stripeAccountId": "acct_1"}})
    assert unknown.json()["data"]["linkPartyToStripe"]["userErrors"][0]["code"] == \
        "UNKNOWN_PARTY"
    ok = post(http, LINK, token, **{"input": {"party": "cafe", "stripeAccountId": "acct_Ok1",
                                           "stripeCustomerId": "cus_Ok1"}}).json()
    assert ok["data"]["linkPartyToStripe"] == {"party": {
        "code": "cafe", "name": "Cafe", "kind": "partner", "stripeAccountId": "acct_Ok1",
        "stripeCustomerId": "cus_Ok1"}, "userErrors": []}
    partners = post(http, PARTIES, token, kind="PARTNER").json()["data"]["settlementParties"]
    assert {p["code"] for p in partners} == {"cafe", "telecom", "pharmacy"}
    cafe = next(p for p in partners if p["code"] == "cafe")
    assert (cafe["stripeAccountId"], cafe["stripeCustomerId"]) == ("acct_Ok1", "cus_Ok1")
    everyone = post(http, PARTIES, token).json()["data"]["settlementParties"]
    assert {p["code"] for p in everyone} == {"cafe", "telecom", "pharmacy", "kids-charity"}


def test_onboarding_link_and_customer_over_graphql(hub, standin: StripeConnectServer) -> None:
    world, http, token = hub
    variables = {"party": "telecom", "returnUrl": "https://hub.example/ok",
                 "refreshUrl": "https://hub.example/again"}
    out = post(http, ONBOARD, token, **{"input": variables}).json()["data"]
    link = out["createPartyOnboardingLink"]
    assert link["userErrors"] == [] and link["createdAccount"] is True
    account_id = link["party"]["stripeAccountId"]
    assert stripe_ids(world.db)["telecom"] == (account_id, None)
    done = httpx.get(link["url"])
    assert (done.status_code, done.headers["location"]) == (302, "https://hub.example/ok")
    assert standin.objects("account")[0]["payouts_enabled"] is True
    made = post(http, CUSTOMER, token, **{"input": {"party": "telecom"}}).json()["data"]
    customer_id = made["createPartyStripeCustomer"]["party"]["stripeCustomerId"]
    assert customer_id.startswith("cus_")
    assert stripe_ids(world.db)["telecom"] == (account_id, customer_id)


def test_viewers_cannot_link(hub) -> None:
    world, http, _ = hub
    _, viewer = staff.create(world.db, "Val", {"viewer"})
    denied = post(http, LINK, viewer, **{"input": {"party": "cafe", "stripeAccountId": "acct_1"}})
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stripe_ids(world.db)["cafe"] == (None, None)
