"""`pointsnet rewards …` end to end through the real command line, on both databases."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network import parties
from network.db.engine import Database
from network.programme import rewards_store
from tests.support import ledger_world as w


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    return CliRunner().invoke(main, list(args))


def test_staff_publish_load_codes_and_list(db, monkeypatch, tmp_path):
    db.write(lambda conn: parties.create(conn, kind="partner", code="cinema", name="Cinema"))
    made = _cli(db, monkeypatch, "rewards", "create", "--partner", "cinema", "--name-en",
                "Two tickets", "--name-fa", "دو بلیت", "--price", "900", "--code-source",
                "pool", "--stock", "50", "--activate")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("created #1  active  coupon  900 pts  stock=50  sold=0")
    codes = tmp_path / "codes.csv"
    codes.write_text("code\nCIN-0001\nCIN-0002\nCIN-0001\nno#way\n", encoding="utf-8")
    refused = _cli(db, monkeypatch, "rewards", "codes", "upload", "1", "--file", str(codes))
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "pointsnet: error: CODE_DUPLICATE_IN_FILE: csv.line4: line 4: CIN0001 is already on "
        "line 2",
        "pointsnet: error: CODE_MALFORMED: csv.line5: line 5: 'no#way' is not a code (4 to 64 "
        "letters, digits, '.', '_' or '-')"]
    assert db.read(rewards_store.free_codes, [1]) == {}
    codes.write_text("CIN-0001\nCIN-0002\n", encoding="utf-8")
    loaded = _cli(db, monkeypatch, "rewards", "codes", "upload", "1", "--file", str(codes))
    assert loaded.output == "added 2 codes to #1 Two tickets\n"
    listed = _cli(db, monkeypatch, "rewards", "list")
    assert "codes=2" in listed.output and "Two tickets / دو بلیت" in listed.output
    paused = _cli(db, monkeypatch, "rewards", "status", "1", "paused")
    assert paused.output.startswith("paused #1  paused")


def test_every_problem_is_one_line_and_nothing_is_written(db, monkeypatch):
    db.write(lambda conn: parties.create(conn, kind="partner", code="cinema", name="Cinema"))
    counts = w.row_counts(db)
    refused = _cli(db, monkeypatch, "rewards", "create", "--partner", "cinema", "--name-en",
                   "", "--name-fa", "x", "--price", "0", "--tiers", "diamond")
    assert refused.exit_code == 2
    assert [line.split(":")[2].strip() for line in refused.stderr.splitlines()] == [
        "NAME_REQUIRED", "PRICE_NOT_POSITIVE", "TIER_UNKNOWN"]
    nobody = _cli(db, monkeypatch, "rewards", "create", "--partner", "nobody", "--name-en",
                  "a", "--name-fa", "b", "--price", "5")
    assert nobody.stderr == "pointsnet: error: PARTY_UNKNOWN: --partner: no partner with code " \
                            "'nobody'\n"
    assert w.row_counts(db) == counts
