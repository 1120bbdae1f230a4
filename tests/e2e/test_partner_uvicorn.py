"""A partner integration against a real uvicorn server (two worker processes) on 127.0.0.1 and
PostgreSQL: the SDK signs, the server verifies, and a replay of the exact same bytes is refused
whichever worker receives it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from network.clock import utcnow
from network.db.engine import Database
from partners.client import PartnerClient, sign_graphql
from partners.contracts import Terms
from partners.keys import create_key
from partners.registry import create_partner
from partners.signatures import load_private_key

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "graphql" / "operations" / "partner"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(pg_db: Database) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "POINTSNET_DATABASE_URL": pg_db.url,
        "POINTSNET_ENV": "test",
        "POINTSNET_SECRET_KEY": "e2e-secret",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "infra.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("uvicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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
