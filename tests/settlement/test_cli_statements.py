"""`pointsnet settle …` end to end through the click CLI (CliRunner) on PostgreSQL: preview,
close, statements (signed CSV + HTML, verified with our command and with openssl), pay
--dry-run, and the error messages finance staff see."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra.cli import main
from network.config import get_settings
from network.db.engine import Database
from network.parties import network_party_id
from settlement.statements import signing
from tests.settlement import scenario as S
from tests.settlement.world import World, build


@pytest.fixture
def cli(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", pg_db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "cli-test-secret")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def world(pg_db: Database) -> World:
    return build(pg_db, pg_db.read(network_party_id), reversal=False)


def test_preview_close_and_summary_table(cli: CliRunner, world: World) -> None:
    out = cli.invoke(main, ["settle", "preview", "--period", "2026-10"])
    assert out.exit_code == 0, out.output
    assert "status draft" in out.output and "bilateral 9 -> netted 4" in out.output
    assert ("netting        through the hub, 9 payments bilaterally become 4 payments: each "
            "party pays the hub or is paid by it once; the hub moves 87.94 EUR of 305.15 EUR "
            "gross obligations; 217.21 EUR cancels out between parties") in out.output
    assert "cafe" in out.output and "-87.94 EUR" in out.output
    assert "kids-charity" in out.output and "59.56 EUR" in out.output
    closed = cli.invoke(main, ["settle", "close", "--period", "2026-10"])
    assert closed.exit_code == 0 and "closed now" in closed.output
    again = cli.invoke(main, ["settle", "close", "--period", "2026-10"])
    assert "already closed; nothing changed" in again.output
    verify = cli.invoke(main, ["settle", "preview", "--period", "2026-10"])
    assert "closed run verified" in verify.output


def test_statements_are_signed_and_verifiable(cli: CliRunner, world: World,
                                              tmp_path: Path) -> None:
    cli.invoke(main, ["settle", "close", "--period", "2026-10"])
    out = cli.invoke(main, ["settle", "statements", "--period", "2026-10", "--out",
                            str(tmp_path)])
    assert out.exit_code == 0, out.output
    # Five parties, a CSV and an HTML each (no Persian names in this scenario).
    assert "wrote statements for 5 parties (10 files, each with a .sig)" in out.output
    folder = tmp_path / "2026-10"
    cafe_csv = folder / "2026-10-cafe.csv"
    rows = list(csv.DictReader(cafe_csv.open()))
    net = next(r for r in rows if r["kind"] == "net")
    assert net["amount_minor"] == "-8794" and net["amount"] == "-87.94"
    body = [r for r in rows if r["direction"] in ("receivable", "payable")]
    assert sum(int(r["amount_minor"]) for r in body) == -8794
    html = (folder / "2026-10-kids-charity.html").read_text()
    assert "Kids-Charity" in html and "59.56 EUR" in html and "Payment status" in html
    for name in ("2026-10-cafe.csv", "2026-10-kids-charity.html"):
        ok = cli.invoke(main, ["settle", "verify-statement", str(folder / name),
                               "--public-key", str(folder / "hub-statement-key.pem")])
        assert ok.exit_code == 0 and "OK" in ok.output
    cafe_csv.write_text(cafe_csv.read_text().replace("-8794", "-794"))
    bad = cli.invoke(main, ["settle", "verify-statement", str(cafe_csv)])
    assert bad.exit_code == 1 and "BAD SIGNATURE" in bad.output
    assert "openssl pkeyutl -verify" in (folder / "VERIFY.txt").read_text()


def test_openssl_verifies_the_detached_signature(cli: CliRunner, world: World,
                                                 tmp_path: Path) -> None:
    cli.invoke(main, ["settle", "close", "--period", "2026-10"])
    cli.invoke(main, ["settle", "statements", "--period", "2026-10", "--out", str(tmp_path)])
    folder = tmp_path / "2026-10"
    result = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                             str(folder / "hub-statement-key.pem"), "-rawin", "-in",
                             str(folder / "2026-10-telecom.csv"), "-sigfile",
                             str(folder / "2026-10-telecom.csv.sig")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout


def test_errors_are_specific(cli: CliRunner, world: World) -> None:
    bad = cli.invoke(main, ["settle", "preview", "--period", "2026-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    # One line, and no progress line before it: the period is checked first.
    assert bad.output.startswith("pointsnet: error: BAD_PERIOD: ") and bad.output.count("\n") == 1
    cli.invoke(main, ["settle", "preview", "--period", "2026-10"])
    open_pay = cli.invoke(main, ["settle", "pay", "--period", "2026-10"])
    assert open_pay.exit_code == 2 and "pointsnet: error: PERIOD_NOT_CLOSED: " in open_pay.output
    missing = cli.invoke(main, ["settle", "statements", "--period", "2026-08"])
    assert missing.exit_code == 2 and "pointsnet: error: NO_RUN: " in missing.output
    draft = cli.invoke(main, ["settle", "statements", "--period", "2026-10"])
    assert draft.exit_code == 2 and "pointsnet: error: PERIOD_NOT_CLOSED: " in draft.output
    for far, code in (("9999-12", "PERIOD_OUT_OF_RANGE"), ("２０２６-１０", "BAD_PERIOD")):
        out = cli.invoke(main, ["settle", "preview", "--period", far])
        assert out.exit_code == 2 and f"pointsnet: error: {code}: " in out.output, out.output


def test_pay_dry_run_lists_the_plan(cli: CliRunner, world: World, pg_db: Database) -> None:
    cli.invoke(main, ["settle", "close", "--period", "2026-10"])
    out = cli.invoke(main, ["settle", "pay", "--period", "2026-10", "--dry-run"])
    # The whole plan, every party blocked (no Stripe ids yet), exit 1 (tests/settlement/
    # test_payouts_linking.py checks each blocker line).
    assert out.exit_code == 1 and "pay would refuse (MISSING_STRIPE_ACCOUNT)" in out.output
    assert "telecom" in out.output and "kids-charity" in out.output


def test_statement_key_is_stable_and_public_key_printed(cli: CliRunner, world: World) -> None:
    out = cli.invoke(main, ["settle", "public-key"])
    assert out.output.startswith("-----BEGIN PUBLIC KEY-----")
    assert out.output.encode() == signing.public_pem(signing.statement_key(get_settings()))


def test_staff_token_create_and_revoke(cli: CliRunner, world: World) -> None:
    out = cli.invoke(main, ["staff", "create", "--name", "Fiona Finance"])
    assert out.exit_code == 0 and "pnst_" in out.output
    token_id = int(out.output.split("#")[1].split()[0])
    assert cli.invoke(main, ["staff", "revoke", str(token_id)]).exit_code == 0
    assert cli.invoke(main, ["staff", "revoke", str(token_id)]).exit_code == 2


def test_pay_through_the_cli_against_local_stripe(cli: CliRunner, pg_db: Database,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  stripe_server, gateway) -> None:
    """Stripe = our stand-in, settlement/payouts/local_stripe.py (transfers, invoices), with
    localstripe (customers)."""
    from tests.settlement.test_payouts import OWED, customer, set_stripe_ids
    world = build(pg_db, pg_db.read(network_party_id), reversal=False)
    for symbol in OWED:
        set_stripe_ids(pg_db, world.party(symbol), stripe_account_id=stripe_server.create_account())
    set_stripe_ids(pg_db, world.party(S.A), stripe_customer_id=customer(gateway))
    monkeypatch.setenv("POINTSNET_STRIPE_API_KEY", "sk_test_cli")
    monkeypatch.setenv("POINTSNET_STRIPE_API_BASE", stripe_server.url)
    get_settings.cache_clear()
    cli.invoke(main, ["settle", "close", "--period", "2026-10"])
    dry = cli.invoke(main, ["settle", "pay", "--period", "2026-10", "--dry-run"])
    assert dry.exit_code == 0 and "collect" in dry.output and "pay_out" in dry.output
    assert stripe_server.objects("transfer") == []
    out = cli.invoke(main, ["settle", "pay", "--period", "2026-10"])
    assert out.exit_code == 0, out.output
    assert "status paying" in out.output and "succeeded (transfer)" in out.output
    assert "submitted (invoice)" in out.output
    assert len(stripe_server.objects("transfer")) == 3


def test_the_summary_says_netting_in_words_not_as_a_bare_ratio(cli: CliRunner, world: World,
                                                               pg_db: Database) -> None:
    out = cli.invoke(main, ["settle", "preview", "--period", "2026-10"])
    assert out.exit_code == 0, out.output
    assert "netting ratio" not in out.output
    assert "netting        through the hub" in out.output
