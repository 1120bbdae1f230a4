"""Closing a month tells each partner's webhook its statement is ready, in the closing
transaction: once, with its own net position, and nothing for a partner that did not ask."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from network.config import Settings
from network.db.engine import Database
from network.parties import network_party_id
from partners.webhooks import store
from partners.webhooks.schema import webhook_deliveries, webhook_events
from settlement import run
from settlement import store as settlement_store
from tests.settlement import scenario as S
from tests.settlement.world import build

LATER = datetime(2026, 12, 10, tzinfo=UTC)


def test_closing_a_month_queues_statement_ready_once_per_asking_partner(
        db: Database, settings: Settings) -> None:
    world = build(db, db.read(network_party_id))
    cafe, telecom = world.party(S.A), world.party(S.B)
    store.create_endpoint(db, scope=f"partner:{cafe}", idempotency_key="hook", partner_id=cafe,
                          url="https://hooks.cafe.example/pointsnet",
                          events=["statement.ready"], signing_kind="hmac", secret_key="s")
    store.create_endpoint(db, scope=f"partner:{telecom}", idempotency_key="hook",
                          partner_id=telecom, url="https://hooks.telecom.example/pointsnet",
                          events=["points.earned"], signing_kind="ed25519", secret_key="s")
    run.preview(db, settings, "2026-10", now=LATER)
    assert db.read(lambda conn: conn.execute(select(webhook_events)).all()) == []  # a draft
    closed = run.close(db, settings, "2026-10", now=LATER)
    run.close(db, settings, "2026-10", now=LATER)  # already closed: nothing again
    rows = db.read(lambda conn: conn.execute(select(webhook_events)).all())
    assert [(r.partner_id, r.type) for r in rows] == [(cafe, "statement.ready")]
    body = json.loads(rows[0].body)
    position = next(p for p in db.read(settlement_store.load_positions, closed.run.id)
                    if p.party_id == cafe)
    assert body["data"] == {"period": "2026-10", "currency": settings.currency,
                            "receivableMinor": position.receivable_minor,
                            "payableMinor": position.payable_minor,
                            "netMinor": position.net_minor}
    assert body["data"]["netMinor"] == S.OCTOBER_NETS[S.A]
    assert len(db.read(lambda conn: conn.execute(select(webhook_deliveries)).all())) == 1
