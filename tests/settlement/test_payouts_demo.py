"""The README's offline payment walk-through, end to end: the demo network, its parties linked
to the local Stripe stand-in (`pointsnet demo --stripe-links`), `settle close`, `settle pay`,
the customers paying their invoices on the stand-in's hosted pages, then `settle pay` again.
All through the `pointsnet` CLI on PostgreSQL with the official `stripe` library."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from click.testing import CliRunner

from infra.cli import main
from infra.demo import build_demo
from network.config import Settings, get_settings
from network.db.engine import Database
from settlement import store
from settlement.payouts import records
from settlement.payouts.local_stripe import StripeConnectServer

# The demo spends in the month before `now`: October 2026 then holds a redemption at the shop, a
# donation, a redemption at the pharmacy and its partial return.
DEMO_NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def standin() -> Iterator[StripeConnectServer]:
    with StripeConnectServer() as server:
        yield server


@pytest.fixture
def cli(pg_db: Database, standin: StripeConnectServer,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", pg_db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "demo-pay-secret")
    monkeypatch.setenv("POINTSNET_STRIPE_API_KEY", "sk_test_standin")
    monkeypatch.setenv("POINTSNET_STRIPE_API_BASE", standin.url)
    get_settings.cache_clear()
    build_demo(pg_db, Settings(database_url=pg_db.url, env="test",
                               secret_key="demo-pay-secret"), now=DEMO_NOW)
    yield CliRunner()
    get_settings.cache_clear()


def test_the_demo_pays_end_to_end_on_the_stand_in(cli: CliRunner, pg_db: Database,
                                                  standin: StripeConnectServer) -> None:
    linked = cli.invoke(main, ["demo", "--stripe-links"])
    assert linked.exit_code == 0, linked.output
    assert "LOCAL STAND-IN (not Stripe)" in linked.output
    # Every account was onboarded through its Account Link page, as a party would.
    accounts = standin.objects("account")
    assert len(accounts) == 6 and all(a["payouts_enabled"] for a in accounts)
    assert len(standin.objects("customer")) == 4  # the partners

    assert cli.invoke(main, ["settle", "close", "--period", "2026-10"]).exit_code == 0
    dry = cli.invoke(main, ["settle", "pay", "--period", "2026-10", "--dry-run"])
    assert dry.exit_code == 0 and "BLOCKED" not in dry.output, dry.output

    out = cli.invoke(main, ["settle", "pay", "--period", "2026-10"])
    assert out.exit_code == 0, out.output
    run = pg_db.read(store.find_run, "2026-10")
    nets = {p.party_id: p.net_minor for p in pg_db.read(store.load_positions, run.id)}
    payments = {p.party_id: p for p in pg_db.read(records.for_run, run.id)}
    owed = {party for party, net in nets.items() if net > 0 and party in payments}
    owing = {party for party, net in nets.items() if net < 0}
    assert owed and owing and set(payments) == owed | owing
    for party in owed:  # paid out at once
        assert (payments[party].method, payments[party].status) == ("transfer", "succeeded")
    for party in owing:  # invoiced: open until the party pays
        assert (payments[party].method, payments[party].status) == ("invoice", "submitted")
    transfers = {int(t["metadata"]["party_id"]): t["amount"] for t in standin.objects("transfer")}
    assert transfers == {party: nets[party] for party in owed}
    invoices = {i["id"]: i for i in standin.objects("invoice")}
    assert {i["status"] for i in invoices.values()} == {"open"}
    assert sorted(i["amount_due"] for i in invoices.values()) == sorted(
        -nets[party] for party in owing)
    assert "status paying" in out.output

    # One party pays its invoice on the hosted page: it is paid, the others stay open.
    first, *others = sorted(invoices)
    page = httpx.post(invoices[first]["hosted_invoice_url"])
    assert page.status_code == 200 and "Local stand-in, not Stripe" in page.text
    again = cli.invoke(main, ["settle", "pay", "--period", "2026-10"])
    assert again.exit_code == 0, again.output
    status = {p.stripe_object_id: p.status for p in pg_db.read(records.for_run, run.id)}
    assert status[first] == "succeeded" and {status[i] for i in others} == {"submitted"}
    assert "status paying" in again.output

    for invoice in others:
        standin.pay_invoice(invoice)
    last = cli.invoke(main, ["settle", "pay", "--period", "2026-10"])
    assert last.exit_code == 0 and "status paid" in last.output, last.output
    assert {p.status for p in pg_db.read(records.for_run, run.id)} == {"succeeded"}
    assert len(standin.objects("transfer")) == len(owed)  # nothing was paid twice
