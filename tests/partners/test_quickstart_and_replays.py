"""The demo's signed example, 409 for a retry while the first request runs, nonce pruning."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from network import idempotency
from network.clock import utcnow
from partners import nonces
from partners.keys_schema import partner_nonces
from partners.quickstart import signed_example
from tests.partners.conftest import Hub, operation


def test_signed_example_command_produces_a_valid_curl(hub: Hub, tmp_path: Path) -> None:
    party = hub.partners["cafe"].party_id
    command = signed_example(hub.db, party, "http://hub.test", tmp_path)
    again = signed_example(hub.db, party, "http://hub.test", tmp_path)
    assert command == again  # the demo key is reused, not multiplied
    args = shlex.split(command.removesuffix(" | sh"))
    assert args[:3] == ["pointsnet", "signature", "sign"]
    curl = subprocess.run(
        [sys.executable, "-m", "infra.cli", *args[1:]], capture_output=True, text=True, check=True
    ).stdout
    parts = shlex.split(curl)
    headers = dict(parts[i + 1].split(": ", 1) for i, p in enumerate(parts) if p == "-H")
    body = parts[parts.index("--data-binary") + 1].encode()
    response = hub.http.post("/graphql", content=body, headers=headers)
    assert response.json()["data"]["partner"]["code"] == "cafe"


def test_retry_while_the_first_request_runs_gets_409_then_succeeds(hub: Hub) -> None:
    member = hub.enrol()
    scope = f"partner:{hub.partners['cafe'].party_id}"
    lock_key = idempotency.advisory_key(scope, "till-9")
    variables = {"input": {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}}
    held = threading.Event()
    release = threading.Event()

    def first_request_still_running() -> None:
        with hub.db.engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})
            held.set()
            release.wait(10)

    holder = threading.Thread(target=first_request_still_running)
    holder.start()
    held.wait(10)
    try:
        with hub.client(max_attempts=1) as client:
            try:
                client.execute(operation("AwardPoints"), variables, idempotency_key="till-9")
            except Exception as exc:  # noqa: BLE001
                assert getattr(exc, "status", None) == 409
                assert getattr(exc, "code", None) == "IDEMPOTENCY_IN_PROGRESS"
            else:
                raise AssertionError("expected HTTP 409")
        assert hub.ledger_counts() == (0, 0, 0)
    finally:
        release.set()
        holder.join()
    with hub.client() as client:
        result = client.execute(operation("AwardPoints"), variables, idempotency_key="till-9")
    assert result["data"]["awardPoints"]["transaction"]["points"] == 100


def test_expired_nonces_are_pruned(hub: Hub) -> None:
    now, key_id = utcnow(), hub.partners["cafe"].key_id
    assert nonces.claim(hub.db, key_id, "old-nonce-1", now - timedelta(1), now)
    assert nonces.claim(hub.db, key_id, "new-nonce-1", now + timedelta(1), now)
    assert hub.db.write(nonces.prune, now) == 1
    left = hub.db.read(lambda c: c.execute(select(partner_nonces.c.nonce)).scalars().all())
    assert left == ["new-nonce-1"]
    assert not nonces.claim(hub.db, key_id, "new-nonce-1", now + timedelta(1), now)
    assert (
        hub.db.read(
            lambda c: c.execute(select(func.count()).select_from(partner_nonces)).scalar_one()
        )
        == 1
    )
