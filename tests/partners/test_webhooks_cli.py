"""`pointsnet partners webhooks …`: staff create, list, disable, enable, rotate, replay and
delete partners' endpoints; errors in the one CLI format; a secret printed once."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network.clock import utcnow
from network.config import get_settings
from network.db.engine import Database
from partners import webhooks
from partners.registry import create_partner
from partners.terms import Terms
from partners.webhooks import store
from partners.webhooks.delivery import drain


def _run(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(main, ["partners", "webhooks", *args])


def test_staff_manage_a_partners_endpoints_from_the_command_line(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "cli-secret")
    partner = db.write(lambda conn: create_partner(
        conn, code="cafe", name="Café", terms=Terms(earn_points_per_unit=Decimal("10")),
        now=utcnow()))
    listed = _run("events")
    assert listed.exit_code == 0 and "statement.ready" in listed.output
    created = _run("create", "cafe", "--url", "https://hooks.cafe.example/in",
                   "--events", "points.earned,coupon.bought")
    assert created.exit_code == 0, created.output
    secret = re.search(r"secret \(shown once\): (whsec_\S+)", created.output).group(1)  # type: ignore[union-attr]
    endpoint_id = created.output.split()[0]
    shown = _run("list", "cafe")
    assert "https://hooks.cafe.example/in" in shown.output and secret not in shown.output
    assert "events: points.earned coupon.bought" in shown.output
    assert "disabled (disabled by request)" in _run("disable", endpoint_id).output
    assert "  enabled  " in _run("enable", endpoint_id).output
    rotated = _run("rotate", endpoint_id)
    assert rotated.exit_code == 0 and "whsec_" in rotated.output and secret not in rotated.output
    db.write(lambda conn: webhooks.emit(conn, partner.id, webhooks.COUPON_BOUGHT, {}))
    drain(db, utcnow, secret_key="cli-secret")  # the URL answers nothing: one failed attempt
    deliveries = _run("deliveries", endpoint_id)
    assert deliveries.exit_code == 0 and "coupon.bought  pending  attempts 1" in deliveries.output
    delivery_id = deliveries.output.split()[0]
    replayed = _run("replay", delivery_id)
    assert replayed.exit_code == 0 and "queued" in replayed.output
    assert "(replays " in _run("deliveries", endpoint_id).output
    bad = _run("create", "cafe", "--url", "http://hooks.cafe.example/in", "--events",
               "points.earned")
    assert bad.exit_code == 2 and "INVALID_WEBHOOK_URL" in bad.stderr
    assert "PARTNER_NOT_FOUND" in _run("create", "nobody", "--url", "https://x.example/",
                                       "--events", "points.earned").stderr
    assert _run("delete", endpoint_id).output.strip() == f"deleted endpoint {endpoint_id}"
    gone = _run("disable", endpoint_id)
    assert gone.exit_code == 2 and "WEBHOOK_ENDPOINT_NOT_FOUND" in gone.stderr
    assert _run("list").output.strip() == "no webhook endpoints"
    assert db.read(store.list_endpoints, None) == []
