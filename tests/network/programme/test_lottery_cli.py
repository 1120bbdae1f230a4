"""`pointsnet lottery …` end to end through the real command line: a draw opened, entered,
closed, drawn and published, then verified from its files alone, and each tampering caught."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from infra.cli import main
from network import ledger
from network.programme import lottery
from network.programme import lottery_store as store
from tests.support import ledger_world as w

IN_WINDOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _cli(db, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", w.SECRET)
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def published(db, monkeypatch, tmp_path):
    cafe = w.partner(db, "cafe")
    opened = _cli(db, monkeypatch, "lottery", "open", "phone", "--name-en", "A phone",
                  "--name-fa", "یک گوشی", "--sponsor", "cafe", "--price", "20",
                  "--per-member", "2", "--opens", "2026-01-01T00:00+00:00",
                  "--closes", "2026-01-02T00:00+00:00", "--prize", "1:Phone:گوشی:7",
                  "--prize", "2:Coffee:قهوه")
    assert opened.exit_code == 0, opened.output
    assert opened.output.startswith("opened phone  #1  open  A phone  20 points")
    draw = db.read(store.get, "phone")
    assert draw.prizes[0].reward_id == 7 and f"commitment={draw.commitment}" in opened.output
    for _ in range(5):
        m = w.member(db)
        ledger.earn(db, scope="p", idempotency_key=w.key(), issuer_id=cafe, member_id=m,
                    points=100, now=IN_WINDOW)
        for _ in range(2):
            store.enter(db, member_id=m, draw_id=draw.id, idempotency_key=w.key(), now=IN_WINDOW)
    early = _cli(db, monkeypatch, "lottery", "publish", "phone", "--out", str(tmp_path / "early"))
    assert early.exit_code == 0 and sorted(p.name for p in (tmp_path / "early").iterdir()) == [
        "commitment.txt"]
    for verb in ("close", "draw"):
        done = _cli(db, monkeypatch, "lottery", verb, "phone")
        assert done.exit_code == 0, done.output
    out = tmp_path / "pub"
    written = _cli(db, monkeypatch, "lottery", "publish", "phone", "--out", str(out))
    assert written.exit_code == 0, written.output
    return out


def test_verify_says_match_on_a_real_draw(db, monkeypatch, published):
    result = _cli(db, monkeypatch, "lottery", "verify", str(published))
    assert result.exit_code == 0, result.output
    assert result.output == ("MATCH: draw phone, 10 entries, 3 winners follow from the seed, "
                             "which matches the commitment\n")


@pytest.mark.parametrize("name", [lottery.COMMITMENT, lottery.ENTRIES, lottery.SEED,
                                  lottery.WINNERS])
def test_verify_names_what_differs_when_a_file_is_tampered_with(db, monkeypatch, published,
                                                                 name):
    path = published / name
    text = path.read_text()
    lines = text.splitlines(True)
    # Change one hex digit of the last line's hash (the last line of commitment.txt is the
    # commitment itself).
    last = lines[-1].rstrip("\n")
    lines[-1] = last[:-1] + ("0" if last[-1] != "0" else "1") + "\n"
    path.write_text("".join(lines))
    result = _cli(db, monkeypatch, "lottery", "verify", str(published))
    assert result.exit_code == 1
    assert result.output.startswith("DIFFERS:\n  ")


def test_a_seed_that_is_not_the_committed_one_is_named(db, monkeypatch, published):
    (published / lottery.SEED).write_text("00" * 32 + "\n")
    result = _cli(db, monkeypatch, "lottery", "verify", str(published))
    assert result.exit_code == 1
    assert "seed.txt: sha256 of the seed is " in result.output
    assert "but the commitment published when the draw opened is" in result.output


def test_bad_input_is_one_line(db, monkeypatch):
    w.partner(db, "cafe")
    result = _cli(db, monkeypatch, "lottery", "open", "x", "--name-en", "X", "--name-fa", "ایکس",
                  "--sponsor", "cafe", "--closes", "2026-01-02", "--prize", "1:a:b")
    assert result.exit_code == 2
    assert result.stderr.startswith("pointsnet: error: BAD_TIME: --closes needs its UTC offset")
    result = _cli(db, monkeypatch, "lottery", "close", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("pointsnet: error: DRAW_NOT_FOUND: ")
