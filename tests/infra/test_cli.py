"""The command line as a whole: one error format and exit-code rule for every command family,
settings checked at start, no database created by accident, help text on every option."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from infra.cli import main
from network.config import get_settings
from network.db.engine import Database

ERROR_LINE = re.compile(r"^pointsnet: error: ([A-Z][A-Z_]+): \S.*$")


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test sets its own POINTSNET_* variables; none may leak from the caller's shell."""
    for name in ("ENV", "TIMEZONE", "DATABASE_URL", "SECRET_KEY", "CURRENCY",
                 "MEMBER_TRANSFERS", "GRAPHQL_THREADS", "BASE_URL"):
        monkeypatch.delenv(f"POINTSNET_{name}", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _invoke(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(main, list(args))


def _error_codes(result: Result) -> list[str]:
    """The codes of an error result, checking the one format: exit 2, nothing on stdout, and
    every stderr line `pointsnet: error: CODE: message`."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert lines and all(ERROR_LINE.match(line) for line in lines), result.stderr
    return [ERROR_LINE.match(line).group(1) for line in lines]  # type: ignore[union-attr]


def test_every_command_family_reports_bad_input_in_one_format(
        sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    cases = [
        (["db", "upgrade", "--bogus"], "UNKNOWN_OPTION"),
        (["ledger", "verify", "extra"], "BAD_USAGE"),
        (["demo", "--bogus"], "UNKNOWN_OPTION"),
        (["serve", "--workers", "0"], "BAD_VALUE"),
        (["schema", "export", "--out", str(tmp_path / "no-dir" / "s.graphql")], "CANNOT_WRITE"),
        (["partners", "create", "cafe"], "MISSING_OPTION"),
        (["partners", "create", "bad code!", "--name", "X"], "INVALID_INPUT"),
        (["partners", "keys", "create"], "MISSING_ARGUMENT"),
        (["partners", "keys", "revoke", "pk_nope"], "KEY_NOT_FOUND"),
        (["partners", "contract", "add", "nobody", "--from", "2099-01-01", "--earn-rate", "2"],
         "PARTNER_NOT_FOUND"),
        (["signature", "sign", "--private-key", str(garbage), "--key-id", "k", "--data", "{}"],
         "INPUT_UNREADABLE"),
        (["notifications", "drain", "--batch", "0"], "BAD_VALUE"),
        (["settle", "preview", "--period", "2026-13"], "BAD_PERIOD"),
        (["staff", "revoke", "999"], "NO_TOKEN"),
        (["staff", "create", "--name", "Fiona\x01Finance"], "BAD_NAME"),
        (["charities", "edit", "nobody", "--name", "X"], "CHARITY_NOT_FOUND"),
        (["no-such-command"], "BAD_USAGE"),
    ]
    for args, code in cases:
        assert _error_codes(_invoke(*args)) == [code], args


def test_a_usage_error_says_where_to_find_help() -> None:
    result = _invoke("partners", "keys", "rotate", "pk_1", "--overlap-days", "-1")
    assert _error_codes(result) == ["BAD_VALUE"]
    assert result.stderr == ("pointsnet: error: BAD_VALUE: Invalid value for '--overlap-days': "
                             "-1 is not in the range 0<=x<=3650. (see `pointsnet partners keys "
                             "rotate --help`)\n")


def test_a_group_without_its_command_shows_its_help_and_says_what_is_missing() -> None:
    result = _invoke("partners", "contract")
    assert result.exit_code == 2
    assert result.stdout.startswith("Usage: ") and " add " in result.stdout
    assert result.stderr == ("pointsnet: error: MISSING_COMMAND: `pointsnet partners contract` "
                             "needs one of the commands listed above\n")


def test_bad_settings_stop_every_command_at_start_one_line_each(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("POINTSNET_ENV", "prod")
    monkeypatch.setenv("POINTSNET_TIMEZONE", "Europe/Berln")
    monkeypatch.setenv("POINTSNET_NOTIFY_SMS_SENDER", "pigeon")
    for args in (["ledger", "verify"], ["partners", "list"], ["settle", "preview", "--period",
                                                              "2026-10"]):
        result = _invoke(*args)
        assert _error_codes(result) == ["BAD_SETTING"] * 3
        assert [line.split(": ")[3].split()[0] for line in result.stderr.splitlines()] == [
            "POINTSNET_ENV", "POINTSNET_TIMEZONE", "POINTSNET_NOTIFY_SMS_SENDER"]
    # Help still works, so the operator can read what the variables mean.
    assert _invoke("ledger", "verify", "--help").exit_code == 0


@pytest.mark.parametrize("url", ["postgres://app@db.invalid/points", "mysql://app@db/points"])
def test_a_database_url_the_hub_cannot_use_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                       url: str) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", url)
    result = _invoke("ledger", "verify")
    codes = _error_codes(result)
    assert "POINTSNET_DATABASE_URL" in result.stderr
    # postgres:// is read as PostgreSQL (a host that cannot be reached); mysql:// is refused.
    assert codes == (["NO_DATABASE"] if url.startswith("postgres:") else ["BAD_SETTING"])


def test_outside_the_repository_no_empty_database_is_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["ledger", "verify"], ["partners", "list"], ["settle", "preview", "--period",
                                                              "2026-10"],
                 ["notifications", "drain"], ["charities", "list"], ["serve"]):
        result = _invoke(*args)
        assert _error_codes(result) == ["NO_DATABASE"], args
        assert f"{tmp_path / 'pointsnet.db'}, which does not exist" in result.stderr
        assert "pointsnet db upgrade" in result.stderr
        assert not (tmp_path / "pointsnet.db").exists()
    monkeypatch.setenv("POINTSNET_DATABASE_URL", f"sqlite:///{tmp_path}/missing-dir/hub.db")
    result = _invoke("db", "upgrade")
    assert _error_codes(result) == ["NO_DATABASE"]
    assert "whose directory does not exist" in result.stderr
    # `db upgrade` is how a database is made on purpose.
    monkeypatch.delenv("POINTSNET_DATABASE_URL")
    assert _invoke("db", "upgrade").exit_code == 0
    assert _invoke("ledger", "verify").exit_code == 0


def _admin(pg_url: str) -> str:
    return make_url(pg_url).set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)


def test_a_missing_or_empty_postgresql_database_is_one_line(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = make_url(pg_url).set(database=f"pointsnet_missing_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("POINTSNET_DATABASE_URL", missing.render_as_string(hide_password=False))
    for args in (["ledger", "verify"], ["db", "upgrade"]):
        result = _invoke(*args)
        assert _error_codes(result) == ["NO_DATABASE"]
        assert f'database "{missing.database}" does not exist' in result.stderr

    empty = f"pointsnet_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin(pg_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{empty}"')
    try:
        monkeypatch.setenv("POINTSNET_DATABASE_URL", make_url(pg_url).set(database=empty)
                           .render_as_string(hide_password=False))
        result = _invoke("partners", "list")
        assert _error_codes(result) == ["NO_DATABASE"]
        assert "holds no hub schema; run `pointsnet db upgrade`" in result.stderr
    finally:
        get_settings.cache_clear()
        with psycopg.connect(_admin(pg_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{empty}" WITH (FORCE)')


def _commands(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_every_command_and_option_has_help_text() -> None:
    missing = []
    for path, command in _commands(main, "pointsnet"):
        if not (command.help or "").strip():
            missing.append(path)
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{path} {param.opts[0]}")
            # An argument has no help of its own: the command's text must name it.
            if isinstance(param, click.Argument) and param.human_readable_name not in (
                    command.help or ""):
                missing.append(f"{path} {param.human_readable_name}")
    assert missing == []


def test_files_the_readme_commands_write_are_ignored_by_git() -> None:
    """Private keys above all: `git add .` must never pick one up."""
    root = Path(__file__).resolve().parents[2]
    written = ["cafe-key.pem", "new-key.pem", "keys/till-3.pem", ".pointsnet/keys/cafe.pem",
               "request.http", "award.json", "statements/2026-10/cafe.csv", "pointsnet.db"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=root,
                            capture_output=True, text=True, check=False)
    assert sorted(result.stdout.split()) == sorted(written), result.stderr
    kept = subprocess.run(["git", "check-ignore", "--no-index", "README.md", "infra/cli.py"],
                          cwd=root, capture_output=True, text=True, check=False)
    assert kept.stdout == ""
