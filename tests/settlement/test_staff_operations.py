"""The documented staff operations (graphql/operations/staff/*.graphql), executed exactly as
written over real HTTP through the hub's ASGI app with `pointsnet staff` bearer tokens: a
finance person's month from preview to a signed statement, in the order they would run it."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path
from typing import Any

import pytest
from graphene.utils.str_converters import to_camel_case
from sqlalchemy import update

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import staff
from network.config import Settings
from network.db.engine import Database
from network.db.schema import parties
from network.parties import network_party_id
from settlement.gql import Mutation, Query
from settlement.statements import signing
from tests.settlement import scenario as S
from tests.settlement.world import World, build

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "staff"


def operation(name: str) -> str:
    """A documented operation, exactly as staff copy it from graphql/operations/staff."""
    return (OPERATIONS / f"{name}.graphql").read_text()


class Staff:
    def __init__(self, http: TestClient, token: str) -> None:
        self.http, self.token = http, token

    def run(self, name: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": operation(name),
                                                    "variables": variables},
                                  headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def hub(pg_db: Database) -> tuple[World, TestClient]:
    world = build(pg_db, pg_db.read(network_party_id), reversal=False)
    settings = Settings(database_url=pg_db.url, env="test", secret_key="staff-ops-secret")
    return world, TestClient(create_app(settings, pg_db), base_url="http://hub.test")


def _verifies(statement: dict[str, Any], text: str, signature: str) -> bool:
    return signing.verify(statement["publicKeyPem"].encode(), statement[text].encode(),
                          base64.b64decode(statement[signature]))


def test_a_finance_month_through_the_documented_operations(hub) -> None:
    world, http = hub
    fiona = Staff(http, staff.create(world.db, "Fiona", {"finance"})[1])
    assert fiona.run("SettlementRun", period="2026-10")["data"]["settlementRun"] is None

    preview = fiona.run("PreviewSettlement", period="2026-10")["data"]["previewSettlement"]
    assert preview["userErrors"] == [] and preview["changed"] is True
    assert preview["run"]["status"] == "draft"
    assert preview["run"]["nettingExplanation"].startswith(
        "through the hub, 9 payments bilaterally become 4 payments")
    draft = fiona.run("SettlementStatement", period="2026-10", partyCode="cafe")
    assert draft["errors"][0]["extensions"]["code"] == "PERIOD_NOT_CLOSED"

    closed = fiona.run("CloseSettlement", period="2026-10")["data"]["closeSettlement"]
    assert closed["userErrors"] == [] and closed["changed"] is True
    assert closed["run"]["status"] == "closed" and closed["run"]["closedAt"]
    again = fiona.run("CloseSettlement", period="2026-10")["data"]["closeSettlement"]
    assert again["changed"] is False
    assert again["run"]["contentHash"] == closed["run"]["contentHash"]

    runs = fiona.run("SettlementRuns", first=10)["data"]["settlementRuns"]
    assert [e["node"]["period"] for e in runs["edges"]] == ["2026-10"]
    assert runs["pageInfo"]["hasNextPage"] is False

    r = fiona.run("SettlementRun", period="2026-10")["data"]["settlementRun"]
    assert (r["status"], r["bilateralPayments"], r["nettedPayments"], r["nettingRatio"]) == (
        "closed", 9, 4, "0.7118")
    assert r["grossObligations"]["amountMinor"] == S.OCTOBER_GROSS
    assert r["discrepancies"] == []
    nets = {p["party"]["code"]: p["net"]["amountMinor"] for p in r["positions"]}
    assert nets == {"network": 2006, "cafe": -8794, "telecom": 689, "pharmacy": 143,
                    "kids-charity": 5956}
    assert all(p["payment"] is None for p in r["positions"])

    matrix = fiona.run("SettlementMatrix", period="2026-10")["data"]["settlementRun"]["matrix"]
    cell = next(c for c in matrix if (c["payer"]["code"], c["payee"]["code"], c["kind"])
                == ("cafe", "telecom", "redemption"))
    assert (cell["points"], cell["amount"]["amountMinor"]) == (10_000, 9500)
    payments = fiona.run("SettlementPayments", period="2026-10")["data"]["settlementRun"]
    assert payments["payments"] == [] and payments["paidAt"] is None


def test_statement_operation_gives_checkable_signed_statements(hub, pg_db: Database) -> None:
    world, http = hub
    pg_db.write(lambda c: c.execute(update(parties).where(parties.c.id == world.party(S.B))
                                    .values(name_fa="مخابرات")))
    fiona = Staff(http, staff.create(world.db, "Fiona", {"finance"})[1])
    fiona.run("CloseSettlement", period="2026-10")
    cafe = fiona.run("SettlementStatement", period="2026-10",
                     partyCode="cafe")["data"]["settlementRun"]["statement"]
    assert cafe["statementNumber"].startswith("PN-2026-10-R")
    assert (cafe["periodStart"], cafe["periodEnd"]) == ("2026-10-01", "2026-10-31")
    assert cafe["paymentDate"] is None and cafe["paymentStatus"] == "not paid yet"
    assert cafe["issuer"]["code"] == "network" and cafe["net"]["amountMinor"] == -8794
    fee = next(ln for ln in cafe["lines"] if ln["sourceKind"] == "cleared_value")
    assert (fee["rate"], fee["rateUnit"], fee["base"], fee["baseUnit"]) == (
        "150", "basis_points", 13_000, "minor_units")
    assert fee["amount"]["amountMinor"] == -195
    assert sum(ln["amount"]["amountMinor"] for ln in cafe["lines"]) == -8794
    assert _verifies(cafe, "csv", "csvSignature") and _verifies(cafe, "html", "htmlSignature")
    assert cafe["htmlFa"] is None and cafe["htmlFaSignature"] is None  # no Persian name

    telecom = fiona.run("SettlementStatement", period="2026-10",
                        partyCode="telecom")["data"]["settlementRun"]["statement"]
    assert 'dir="rtl"' in telecom["htmlFa"] and "مخابرات" in telecom["htmlFa"]
    assert _verifies(telecom, "htmlFa", "htmlFaSignature")
    # Asked again, a closed run's statement is the same signed bytes.
    repeat = fiona.run("SettlementStatement", period="2026-10",
                       partyCode="telecom")["data"]["settlementRun"]["statement"]
    assert (repeat["html"], repeat["htmlFa"], repeat["csv"]) == (
        telecom["html"], telecom["htmlFa"], telecom["csv"])

    unknown = fiona.run("SettlementStatement", period="2026-10", partyCode="nobody")
    assert unknown["errors"][0]["extensions"]["code"] == "NO_PARTY"


def test_documented_operations_answer_with_codes_for_bad_input(hub) -> None:
    world, http = hub
    fiona = Staff(http, staff.create(world.db, "Fiona", {"finance"})[1])
    bad = fiona.run("PreviewSettlement", period="2026-13")["data"]["previewSettlement"]
    assert bad["run"] is None and bad["changed"] is False
    assert bad["userErrors"][0]["code"] == "BAD_PERIOD"
    assert bad["userErrors"][0]["field"] == "period"
    early = fiona.run("CloseSettlement", period="2099-01")["data"]["closeSettlement"]
    assert early["userErrors"][0]["code"] == "PERIOD_NOT_OVER"
    assert fiona.run("SettlementRuns")["data"]["settlementRuns"]["edges"] == []


def test_a_viewer_reads_but_cannot_preview_or_close(hub) -> None:
    world, http = hub
    Staff(http, staff.create(world.db, "Fiona", {"finance"})[1]).run("CloseSettlement",
                                                                     period="2026-10")
    val = Staff(http, staff.create(world.db, "Val", {"viewer"})[1])
    assert val.run("SettlementRun", period="2026-10")["data"]["settlementRun"]["status"] == (
        "closed")
    for name in ("PreviewSettlement", "CloseSettlement"):
        denied = val.run(name, period="2026-10")
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", name


def test_every_staff_root_field_has_a_documented_operation() -> None:
    """A staff field nobody documented is a field nobody can copy: fail until it has one."""
    documented = "\n".join(p.read_text() for p in OPERATIONS.glob("*.graphql"))
    partner_only = {"partner_settlement_statement"}
    fields = [name for name in Query._meta.fields if name not in partner_only]
    fields += list(Mutation._meta.fields)
    assert fields, "no staff fields found"
    for name in fields:
        assert f"{to_camel_case(name)}(" in documented, name
