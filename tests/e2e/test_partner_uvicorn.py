"""A partner integration against a real uvicorn server (two worker processes) on 127.0.0.1 and
PostgreSQL: the SDK signs, the server verifies, and a replay of the exact same bytes is refused
whichever worker receives it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from network.clock import utcnow
from network.db.engine import Database
from partners.client import PartnerClient, sign_graphql
from partners.keys import create_key
from partners.registry import create_partner
from partners.signatures import load_private_key
from partners.terms import Terms
from tests.support.hub_process import hub_process

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "graphql" / "operations" / "partner"


@pytest.fixture
def server(pg_db: Database) -> Iterator[str]:
    with hub_process(pg_db.url, "e2e-secret") as base:
        yield base


def test_signed_partner_flow_over_real_http(server: str, pg_db: Database) -> None:
    now = utcnow()

    def setup(conn: object) -> tuple[str, str]:
        partner = create_partner(
            conn,
            code="kiosk",
            name="Kiosk",
            terms=Terms(earn_points_per_unit=Decimal("2")),
            now=now,
        )
        key, pem = create_key(conn, party_id=partner.id, now=now)
        return key.key_id, pem

    key_id, pem = pg_db.write(setup)
    with PartnerClient(server, key_id, pem) as client:
        enrolled = client.execute(
            (OPERATIONS / "EnrolMember.graphql").read_text(),
            {"input": {"phone": "+31 20 555 0101"}},
        )
        card = enrolled["data"]["enrolMember"]["member"]["cardNumber"]
        awarded = client.execute(
            (OPERATIONS / "AwardPoints.graphql").read_text(),
            {"input": {"cardNumber": card, "amount": 2500, "currency": "EUR"}},
        )
        assert awarded["data"]["awardPoints"]["transaction"]["points"] == 50
        found = client.execute(
            (OPERATIONS / "LookUpMember.graphql").read_text(), {"phone": "+31205550101"}
        )
        assert found["data"]["partner"]["member"]["balance"] == 50

    body = b'{"query":"{ partner { code } }"}'
    signed = sign_graphql(
        f"{server}/graphql", body, key=load_private_key(pem), key_id=key_id, idempotency_key=None
    )
    first = httpx.post(signed.url, content=body, headers=signed.headers)
    assert first.json() == {"data": {"partner": {"code": "kiosk"}}}
    for _ in range(6):  # fresh connections, so the replays spread over both workers
        replay = httpx.post(signed.url, content=body, headers=signed.headers)
        assert replay.status_code == 401
        assert replay.json()["errors"][0]["extensions"]["code"] == "NONCE_REPLAYED"
