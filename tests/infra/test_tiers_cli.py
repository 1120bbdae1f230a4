"""`pointsnet tiers recalc` and `pointsnet tiers show CARD`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from infra.cli import main
from network.config import get_settings
from network.db.engine import Database
from network.db.schema import members
from network.ledger import award_bonus
from tests.support import ledger_world as w


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
    return CliRunner().invoke(main, ["tiers", *args])


def test_recalc_then_show(sqlite_db: Database) -> None:
    ann, bob = w.member(sqlite_db), w.member(sqlite_db)
    award_bonus(sqlite_db, scope="t", idempotency_key="k1", member_id=ann, points=12_000,
                reason="goodwill")
    card = sqlite_db.read(lambda c: c.execute(
        select(members.c.card_number).where(members.c.id == ann)).scalar_one())
    first = run("recalc")
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "1 members looked at, 1 upgraded, 0 downgraded"
    assert run("recalc").output.strip() == "1 members looked at, 0 upgraded, 0 downgraded"
    shown = run("show", card)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert re.fullmatch(r"tier: gold since \d{4}-\d\d-\d\d, kept until \d{4}-\d\d-\d\d", lines[0])
    assert lines[1:3] == ["points earned in the last 365 days: 12000",
                          "next: platinum at 50000 (38000 to go)"]
    assert re.fullmatch(r"\S+ \S+ blue -> gold \(recalc, 12000 points\)", lines[3])
    assert bob


def test_show_an_unknown_card_says_so() -> None:
    result = run("show", "7012345678901232")
    assert result.exit_code == 2
    assert "MEMBER_NOT_FOUND" in result.stderr
