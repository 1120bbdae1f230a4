"""`pointsnet segments`: create, import (all or nothing, or --skip-bad), refresh, list, show."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from infra.cli import main
from network import cards
from network.config import get_settings
from network.db.engine import Database
from network.db.schema import members
from tests.support import ledger_world as w

ERROR_LINE = re.compile(r"^pointsnet: error: ([A-Z][A-Z_]+): \S.*$")


@pytest.fixture(autouse=True)
def _database(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("ENV", "TIMEZONE", "SECRET_KEY", "CURRENCY", "MEMBER_TRANSFERS"):
        monkeypatch.delenv(f"POINTSNET_{name}", raising=False)
    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(main, ["segments", *args])


def errors(result: Result) -> list[str]:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines and all(ERROR_LINE.match(line) for line in lines), result.stderr
    return lines


def test_a_static_list_from_a_csv(sqlite_db: Database, tmp_path: Path) -> None:
    ids = [w.member(sqlite_db) for _ in range(3)]
    card = dict(sqlite_db.read(lambda c: c.execute(
        select(members.c.id, members.c.card_number)).all()))
    assert run("create", "vip", "--name", "VIP", "--name-fa", "ویژه").exit_code == 0
    bad = tmp_path / "vip.csv"
    bad.write_text("card_number\n" + card[ids[0]] + "\n" + card[ids[0]] + "\n12\n"
                   + cards.generate() + "\n" + card[ids[1]] + "\n", encoding="utf-8")
    before = w.row_counts(sqlite_db)
    lines = errors(run("import", "vip", "--file", str(bad)))
    assert [ERROR_LINE.match(line).group(1) for line in lines] == [  # type: ignore[union-attr]
        "CARD_DUPLICATE", "CARD_MALFORMED", "CARD_UNKNOWN", "CSV_BAD_LINES"]
    assert "line 3:" in lines[0] and "line 4:" in lines[1] and "line 5:" in lines[2]
    assert w.row_counts(sqlite_db) == before

    skipped = run("import", "vip", "--file", str(bad), "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout == "vip: 2 members (+2 -0), 3 bad line(s) skipped\n"
    assert len(skipped.stderr.splitlines()) == 3

    shown = run("show", "vip")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[0] == "vip  static  2 members  VIP / ویژه"
    assert {line.strip() for line in shown.stdout.splitlines()[2:]} == {card[ids[0]],
                                                                        card[ids[1]]}
    assert errors(run("show", "nope"))[0].startswith("pointsnet: error: SEGMENT_NOT_FOUND:")


def test_rule_segments_and_the_refresh(sqlite_db: Database, tmp_path: Path) -> None:
    w.partner(sqlite_db, "cafe")
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"all": [{"enrolled_days": {"below": 30}}]}))
    w.member(sqlite_db)
    created = run("create", "newcomers", "--name", "Newcomers", "--name-fa", "تازه‌واردها",
                  "--rule", str(rule))
    assert created.exit_code == 0, created.output
    assert created.stdout == "created newcomers  rule  1 members  Newcomers / تازه‌واردها\n"

    rule.write_text(json.dumps({"all": [{"visited": {"partner": "bank", "days": 30}}]}))
    lines = errors(run("create", "bank", "--name", "B", "--name-fa", "ب", "--rule", str(rule)))
    assert lines == ["pointsnet: error: RULE_UNKNOWN_PARTNER: rule.all[0].visited.partner: "
                     "no partner with code 'bank'"]
    rule.write_text("{not json")
    assert "RULE_INVALID" in errors(run("create", "x", "--name", "X", "--name-fa", "ا",
                                        "--rule", str(rule)))[0]

    refreshed = run("refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.stdout.splitlines()[:2] == ["newcomers: 1 members", "rfm: 0 members scored"]
    listed = run("list").stdout.splitlines()
    assert "newcomers  rule  1 members  Newcomers / تازه‌واردها" in listed
    assert sum(line.startswith("rfm-") for line in listed) == 10
