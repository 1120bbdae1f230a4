"""`pointsnet backoffice …`: the first operator (once), users add/list/disable, the TOTP
provisioning URI and QR, refusals in the CLI's one format, every change in the audit log."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network import audit, parties
from network.backoffice import accounts, totp
from network.db.engine import Database
from tests.network.backoffice import world as bw


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str, password: str = "") -> Result:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", bw.SECRET)
    return CliRunner().invoke(main, list(args), input=password + "\n")


def test_first_operator_then_users(pg_db: Database, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    made = _cli(pg_db, monkeypatch, "backoffice", "create-operator", "--login", "Ops@Example.com",
                "--name", "Olga", "--password-stdin", password=bw.PASSWORD)
    assert made.exit_code == 0, made.output
    assert "account #1 ops@example.com: staff operator" in made.output
    secret = re.search(r"key: ([A-Z2-7]+)", made.output).group(1)  # type: ignore[union-attr]
    assert f"otpauth://totp/Points%20Network%3Aops%40example.com?secret={secret}" in made.output
    assert "█" in made.output or "▀" in made.output  # the QR code, drawn in the terminal
    # The secret printed is the one the sign-in checks.
    now = dt.datetime.now(dt.UTC)
    found = pg_db.write(lambda c: accounts.check(
        c, bw.SECRET, login="ops@example.com", password=bw.PASSWORD,
        code=totp.code_at(secret, now.timestamp()), now=now))
    assert found is not None and found.role == "operator"

    again = _cli(pg_db, monkeypatch, "backoffice", "create-operator", "--login", "x@example.com",
                 "--name", "X", "--password-stdin", password=bw.PASSWORD)
    assert again.exit_code == 2 and "OPERATOR_EXISTS" in again.output

    pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe"))
    png = tmp_path / "qr.png"
    cashier = _cli(pg_db, monkeypatch, "backoffice", "users", "add", "--login", "till@cafe.test",
                   "--name", "Till", "--role", "cashier", "--partner", "cafe",
                   "--password-stdin", "--qr-png", str(png), password=bw.PASSWORD)
    assert cashier.exit_code == 0, cashier.output
    assert png.read_bytes().startswith(b"\x89PNG")
    orphan = _cli(pg_db, monkeypatch, "backoffice", "users", "add", "--login", "a@cafe.test",
                  "--name", "A", "--role", "analyst", "--password-stdin", password=bw.PASSWORD)
    assert orphan.exit_code == 2 and "PARTNER_NOT_FOUND" in orphan.output
    weak = _cli(pg_db, monkeypatch, "backoffice", "users", "add", "--login", "v@example.com",
                "--name", "V", "--role", "viewer", "--password-stdin", password="short")
    assert weak.exit_code == 2 and "WEAK_PASSWORD" in weak.output

    listed = _cli(pg_db, monkeypatch, "backoffice", "users", "list")
    assert "#2  till@cafe.test  partner_user cashier partner:" in listed.output
    assert _cli(pg_db, monkeypatch, "backoffice", "users", "disable", "2").exit_code == 0
    assert "disabled" in _cli(pg_db, monkeypatch, "backoffice", "users", "list").output
    gone = _cli(pg_db, monkeypatch, "backoffice", "users", "disable", "2")
    assert gone.exit_code == 2 and "ACCOUNT_NOT_FOUND" in gone.output
    assert [e.action for e in pg_db.read(lambda c: audit.entries(c))] == [
        "backoffice.account_added", "backoffice.account_added", "backoffice.account_disabled"]
