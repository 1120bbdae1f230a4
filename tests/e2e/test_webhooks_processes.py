"""Webhooks across real processes: a partner's SDK registers an Ed25519 endpoint and books an
earn on a uvicorn hub; `pointsnet worker --once --jobs webhooks`, another process, delivers both
events to a receiver on 127.0.0.1, where the SDK's verifier accepts them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from network.clock import utcnow
from network.db.engine import Database
from partners.client import PartnerClient, operation
from partners.keys import create_key
from partners.registry import create_partner
from partners.terms import Terms
from partners.webhooks.verify import verify_webhook
from tests.support.hub_process import hub_process
from tests.support.webhook_receiver import Receiver, running_receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    yield from running_receiver(monkeypatch)  # its variable reaches the hub and the worker


def test_the_hub_queues_and_the_worker_delivers(pg_db: Database, receiver: Receiver) -> None:
    now = utcnow()

    def setup(conn: object) -> tuple[str, str]:
        partner = create_partner(conn, code="corner", name="Corner Café",
                                 terms=Terms(earn_points_per_unit=Decimal("10")), now=now)
        key, pem = create_key(conn, party_id=partner.id, now=now)
        return key.key_id, pem

    key_id, pem = pg_db.write(setup)
    with hub_process(pg_db.url, "webhook-secret", workers=1) as base, \
            PartnerClient(base, key_id, pem) as client:
        created = client.execute(operation("CreateWebhookEndpoint"), {"input": {
            "url": receiver.url, "events": ["member.enrolled", "points.earned"],
            "signing": "ED25519"}})["data"]["createWebhookEndpoint"]
        assert created["userErrors"] == []
        member = client.execute(operation("EnrolMember"), {"input": {}})
        card = member["data"]["enrolMember"]["member"]["cardNumber"]
        client.execute(operation("AwardPoints"), {"input": {
            "cardNumber": card, "amount": 1250, "currency": "EUR", "reference": "r-981"}})
    assert receiver.got == []  # the hub only queued them
    env = {**os.environ, "POINTSNET_DATABASE_URL": pg_db.url, "POINTSNET_ENV": "test",
           "POINTSNET_SECRET_KEY": "webhook-secret"}
    run = subprocess.run([sys.executable, "-m", "infra.cli", "worker", "--once", "--jobs",
                          "webhooks"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "webhooks: ok" in run.stdout and "delivered=2" in run.stdout
    key = created["endpoint"]["publicKey"]
    events = [verify_webhook(got.headers, got.body, key) for got in receiver.got]
    assert [e["type"] for e in events] == ["member.enrolled", "points.earned"]
    assert events[1]["data"]["points"] == 125 and events[1]["data"]["reference"] == "r-981"
