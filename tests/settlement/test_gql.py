"""The settlement GraphQL slice over real HTTP through the hub's ASGI app (infra.app):
finance staff with `pointsnet staff` bearer tokens; a partner reading its own statement with
an RFC 9421-signed request (the partners' own PartnerClient)."""

from __future__ import annotations

import base64
import warnings
from datetime import UTC, datetime

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import staff
from network.config import Settings
from network.db.engine import Database
from network.parties import network_party_id
from partners.client import PartnerClient
from partners.keys import create_key
from settlement import run
from settlement.statements import signing
from tests.settlement import scenario as S
from tests.settlement.world import World, build

LATER = datetime(2026, 12, 10, tzinfo=UTC)
RUN_QUERY = """query($period: String!) { settlementRun(period: $period) {
  period status contentHash nettedPayments bilateralPayments nettingRatio
  grossObligations { amountMinor amount currencyCode }
  pointsByKind { kind points } discrepancies
  matrix { payer { code } payee { code } kind points amount { amountMinor } }
  positions { party { code } net { amountMinor formatted } payment { status } }
  statement(partyCode: "cafe") { net { amountMinor } csv csvSignature publicKeyPem
    sections { title amount { amountMinor } } }
} }"""


@pytest.fixture
def hub(pg_db: Database) -> tuple[World, Settings, TestClient]:
    world = build(pg_db, pg_db.read(network_party_id), reversal=False)
    settings = Settings(database_url=pg_db.url, env="test", secret_key="gql-secret")
    return world, settings, TestClient(create_app(settings, pg_db), base_url="http://hub.test")


def post(http: TestClient, query: str, token: str | None = None, **variables: object):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def test_finance_staff_read_runs_matrix_and_statements(hub) -> None:
    world, settings, http = hub
    run.close(world.db, settings, "2026-10", now=LATER)
    _, token = staff.create(world.db, "Fiona", {"finance"})
    body = post(http, RUN_QUERY, token, period="2026-10").json()
    assert "errors" not in body, body
    r = body["data"]["settlementRun"]
    assert (r["status"], r["nettedPayments"], r["bilateralPayments"]) == ("closed", 4, 9)
    assert r["grossObligations"] == {"amountMinor": S.OCTOBER_GROSS, "amount": "305.15",
                                     "currencyCode": "EUR"}
    nets = {p["party"]["code"]: p["net"]["amountMinor"] for p in r["positions"]}
    assert nets == {"network": 2006, "cafe": -8794, "telecom": 689, "pharmacy": 143,
                    "kids-charity": 5956}
    cell = next(c for c in r["matrix"] if (c["payer"]["code"], c["payee"]["code"], c["kind"])
                == ("cafe", "telecom", "redemption"))
    assert (cell["points"], cell["amount"]["amountMinor"]) == (10_000, 9500)
    st = r["statement"]
    assert st["net"]["amountMinor"] == -8794
    assert signing.verify(st["publicKeyPem"].encode(), st["csv"].encode(),
                          base64.b64decode(st["csvSignature"]))
    runs = post(http, "{ settlementRuns(first: 5) { edges { node { id period } } "
                      "pageInfo { hasNextPage } } }", token).json()
    assert [e["node"]["period"] for e in runs["data"]["settlementRuns"]["edges"]] == ["2026-10"]


def test_staff_mutations_preview_and_close_with_user_errors(hub) -> None:
    world, settings, http = hub
    _, token = staff.create(world.db, "Fiona", {"finance"})
    mutation = """mutation($p: String!) { closeSettlement(input: {period: $p}) {
        changed run { status contentHash } userErrors { field code message } } }"""
    bad = post(http, mutation, token, p="2026-13").json()["data"]["closeSettlement"]
    assert bad["userErrors"][0]["code"] == "BAD_PERIOD" and bad["run"] is None
    ok = post(http, mutation, token, p="2026-10").json()["data"]["closeSettlement"]
    assert ok["changed"] and ok["run"]["status"] == "closed"
    again = post(http, mutation, token, p="2026-10").json()["data"]["closeSettlement"]
    assert again["changed"] is False
    assert again["run"]["contentHash"] == ok["run"]["contentHash"]


def test_viewer_role_cannot_close_and_strangers_cannot_read(hub) -> None:
    world, settings, http = hub
    _, viewer = staff.create(world.db, "Val", {"viewer"})
    denied = post(http, 'mutation { previewSettlement(input: {period: "2026-10"}) { changed } }',
                  viewer).json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = post(http, '{ settlementRun(period: "2026-10") { status } }').json()
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bogus = post(http, '{ settlementRun(period: "2026-10") { status } }', "pnst_nope")
    assert bogus.status_code == 401
    assert bogus.json()["errors"][0]["extensions"]["code"] == "STAFF_TOKEN_INVALID"
    token_id, token = staff.create(world.db, "Rex", {"finance"})
    staff.revoke(world.db, token_id)
    assert post(http, '{ settlementRuns { edges { node { id } } } }', token).status_code == 401


def test_a_partner_reads_only_its_own_closed_statement(hub) -> None:
    world, settings, http = hub
    query = """query($p: String!) { partnerSettlementStatement(period: $p) {
        party { code } net { amountMinor } paymentStatus lines { counterparty { code } } } }"""
    key, pem = world.db.write(lambda c: create_key(c, party_id=world.party(S.B), now=LATER,
                                                   scopes="read"))
    client = PartnerClient("http://hub.test", key.key_id, pem, http_client=http, backoff=0)
    run.preview(world.db, settings, "2026-10", now=LATER)
    draft = client.execute(query, {"p": "2026-10"})
    assert draft["data"]["partnerSettlementStatement"] is None  # drafts are not statements
    run.close(world.db, settings, "2026-10", now=LATER)
    st = client.execute(query, {"p": "2026-10"})["data"]["partnerSettlementStatement"]
    assert st["party"]["code"] == "telecom" and st["net"]["amountMinor"] == 689
    assert st["paymentStatus"] == "not paid yet"
    _, token = staff.create(world.db, "Fiona", {"finance"})
    # A partner's statement needs that partner's signature, whoever else asks.
    staff_try = post(http, query, token, p="2026-10")
    assert staff_try.status_code == 401
    assert staff_try.json()["errors"][0]["extensions"]["code"] == "SIGNATURE_MISSING"
