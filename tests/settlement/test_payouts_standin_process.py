"""`pointsnet stripe-standin` as its own process, as the README's offline walk-through runs it:
it says it is not Stripe, serves `settle onboard` / `create-customer` / `pay`, and delivers its
events, signed, to the hub's real `/stripe/webhook` (a uvicorn process), which marks an invoice
paid on the stand-in's hosted page as succeeded and the run as paid."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from click.testing import CliRunner

from infra.cli import main
from network.config import Settings, get_settings
from network.db.engine import Database
from network.parties import network_party_id
from settlement import run, store
from settlement.payouts import records
from tests.settlement import scenario as S
from tests.settlement.world import World, build
from tests.support.hub_process import hub_process

LATER = datetime(2026, 12, 10, tzinfo=UTC)
SECRET = "whsec_standin_process"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def hub(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("POINTSNET_STRIPE_WEBHOOK_SECRET", SECRET)
    with hub_process(pg_db.url, "standin-process-secret", workers=1) as base:
        yield base


@pytest.fixture
def standin(hub: str) -> Iterator[tuple[str, str]]:
    """The stand-in's URL and the first lines it printed."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "stripe-standin", "--port", str(port),
         "--webhook-url", f"{hub}/stripe/webhook", "--webhook-secret", SECRET],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        banner = process.stdout.readline() + process.stdout.readline()
        yield f"http://127.0.0.1:{port}", banner
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(check, what: str) -> None:  # type: ignore[no-untyped-def]
    """Webhooks arrive asynchronously: wait (bounded) for their effect, then assert it."""
    for _ in range(300):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_standin_process_pays_and_delivers_webhooks_to_the_hub(
        pg_db: Database, standin: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, banner = standin
    assert "LOCAL STAND-IN, NOT STRIPE" in banner and url in banner
    world: World = build(pg_db, pg_db.read(network_party_id), reversal=False)
    monkeypatch.setenv("POINTSNET_DATABASE_URL", pg_db.url)
    monkeypatch.setenv("POINTSNET_STRIPE_API_KEY", "sk_test_standin")
    monkeypatch.setenv("POINTSNET_STRIPE_API_BASE", url)
    get_settings.cache_clear()
    cli = CliRunner()
    try:
        for code in ("telecom", "pharmacy", "kids-charity"):
            out = cli.invoke(main, ["settle", "onboard", "--party", code, "--return-url",
                                    "https://hub.example/ok", "--refresh-url",
                                    "https://hub.example/again"])
            assert out.exit_code == 0, out.output
            assert httpx.get(out.output.strip().splitlines()[-1]).status_code == 302
        assert cli.invoke(main, ["settle", "create-customer", "--party", "cafe"]).exit_code == 0
        run.close(pg_db, Settings(database_url=pg_db.url, env="test"), "2026-10", now=LATER)
        out = cli.invoke(main, ["settle", "pay", "--period", "2026-10"])
        assert out.exit_code == 0, out.output
    finally:
        get_settings.cache_clear()
    run_id = pg_db.read(store.find_run, "2026-10").id
    cafe = {p.party_id: p for p in pg_db.read(records.for_run, run_id)}[world.party(S.A)]
    assert (cafe.method, cafe.status) == ("invoice", "submitted")

    page = httpx.post(f"{url}/standin/invoices/{cafe.stripe_object_id}")
    assert page.status_code == 200 and "paid" in page.text
    _wait_for(lambda: pg_db.read(store.find_run, "2026-10").status == "paid",
              "the invoice.paid webhook made the run paid")
    payments = pg_db.read(records.for_run, run_id)
    assert {p.status for p in payments} == {"succeeded"} and len(payments) == 4
