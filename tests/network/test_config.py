"""Settings read from POINTSNET_* variables, with a clear error naming a bad value."""

from __future__ import annotations

import pytest

from network.config import ConfigError, Settings


def test_graphql_threads_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POINTSNET_GRAPHQL_THREADS", raising=False)
    assert Settings.from_env().graphql_threads == 4
    monkeypatch.setenv("POINTSNET_GRAPHQL_THREADS", "8")
    assert Settings.from_env().graphql_threads == 8


@pytest.mark.parametrize(("value", "message"), [
    ("four", "POINTSNET_GRAPHQL_THREADS must be a whole number, got 'four'"),
    ("0", "POINTSNET_GRAPHQL_THREADS must be 1 to 64, got 0"),
    ("65", "POINTSNET_GRAPHQL_THREADS must be 1 to 64, got 65"),
])
def test_a_bad_thread_count_is_named(monkeypatch: pytest.MonkeyPatch, value: str,
                                     message: str) -> None:
    monkeypatch.setenv("POINTSNET_GRAPHQL_THREADS", value)
    with pytest.raises(ValueError) as info:
        Settings.from_env()
    assert str(info.value) == message


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(f"POINTSNET_{name}", value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    return info.value.problems


@pytest.mark.parametrize(("name", "value", "message"), [
    ("ENV", "prod", "POINTSNET_ENV must be one of development, test, production, got 'prod'"),
    ("TIMEZONE", "Europe/Berln", "POINTSNET_TIMEZONE must be an IANA time zone such as UTC or "
                                 "Asia/Tehran, got 'Europe/Berln'"),
    ("TIMEZONE", "", "POINTSNET_TIMEZONE must be an IANA time zone such as UTC or Asia/Tehran, "
                     "got ''"),
    ("MEMBER_TRANSFERS", "ys", "POINTSNET_MEMBER_TRANSFERS must be 1 or 0 (true/false, yes/no, "
                               "on/off), got 'ys'"),
    ("CURRENCY", "EURO", "POINTSNET_CURRENCY must be an ISO 4217 code, got 'EURO'"),
    ("GIFT_DAILY_LIMIT", "-1", "POINTSNET_GIFT_DAILY_LIMIT must be 0 to 1,000,000,000 points, "
                               "got -1"),
    ("GIFT_DAILY_LIMIT", "lots", "POINTSNET_GIFT_DAILY_LIMIT must be a whole number, got 'lots'"),
    ("GIFT_CONSENT", "maybe", "POINTSNET_GIFT_CONSENT must be 1 or 0 (true/false, yes/no, "
                              "on/off), got 'maybe'"),
    ("SECRET_KEY", "", "POINTSNET_SECRET_KEY is empty"),
    ("BASE_URL", "hub.example", "POINTSNET_BASE_URL must be an http(s) URL, got 'hub.example'"),
    ("DATABASE_URL", "mysql://app:hunter2@db/points",
     "POINTSNET_DATABASE_URL must be a PostgreSQL (postgresql+psycopg://user@host/db) or SQLite "
     "(sqlite:///path/file.db) URL, got 'mysql://app:***@db/points'"),
    ("DATABASE_URL", "postgresql+psycopg2://u@h/db",
     "POINTSNET_DATABASE_URL uses the driver 'psycopg2'; the hub uses psycopg: write "
     "postgresql+psycopg://…"),
    ("DATABASE_URL", "postgresql://u@h", "POINTSNET_DATABASE_URL names no database: add its name "
                                         "after the host, e.g. "
                                         "postgresql+psycopg://user@host/pointsnet"),
    ("DATABASE_URL", "not a url", "POINTSNET_DATABASE_URL is not a database URL, got 'not a "
                                  "url'; e.g. postgresql+psycopg://user@host/db or "
                                  "sqlite:///pointsnet.db"),
])
def test_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                              message: str) -> None:
    assert _problems(monkeypatch, **{name: value}) == [message]


def test_every_bad_value_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(monkeypatch, ENV="staging", TIMEZONE="Mars/Olympus",
                         GRAPHQL_THREADS="many", DATABASE_URL="mysql://db/points")
    assert [p.split()[0] for p in problems] == [
        "POINTSNET_DATABASE_URL", "POINTSNET_GRAPHQL_THREADS", "POINTSNET_ENV",
        "POINTSNET_TIMEZONE"]


def test_production_needs_its_own_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _problems(monkeypatch, ENV="production") == [
        "POINTSNET_SECRET_KEY must be set in production"]
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "a-real-secret")
    assert Settings.from_env().production


@pytest.mark.parametrize("spelling", ["postgres", "postgresql", "postgresql+psycopg"])
def test_libpq_spellings_of_a_postgresql_url_use_psycopg(monkeypatch: pytest.MonkeyPatch,
                                                         spelling: str) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", f"{spelling}://app:p%40ss@db:5433/points")
    assert Settings.from_env().database_url == "postgresql+psycopg://app:p%40ss@db:5433/points"


def test_good_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in dict(ENV="test", TIMEZONE="Asia/Tehran", MEMBER_TRANSFERS="on",
                            CURRENCY="irr", DATABASE_URL="sqlite:////tmp/x.db").items():
        monkeypatch.setenv(f"POINTSNET_{name}", value)
    settings = Settings.from_env()
    assert (settings.env, settings.timezone, settings.member_transfers, settings.currency,
            settings.database_url) == ("test", "Asia/Tehran", True, "IRR", "sqlite:////tmp/x.db")


def test_a_read_replica_url_is_a_postgresql_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSNET_DATABASE_URL", "postgresql://app@db-1/points")
    monkeypatch.setenv("POINTSNET_READ_DATABASE_URL", "postgres://app@db-2/points")
    monkeypatch.setenv("POINTSNET_READ_MAX_LAG_SECONDS", "2.5")
    settings = Settings.from_env()
    assert settings.read_database_url == "postgresql+psycopg://app@db-2/points"
    assert settings.read_max_lag_seconds == 2.5
    monkeypatch.delenv("POINTSNET_READ_DATABASE_URL")
    assert Settings.from_env().read_database_url is None


@pytest.mark.parametrize(("env", "message"), [
    ({"READ_DATABASE_URL": "sqlite:///replica.db", "DATABASE_URL": "postgresql://a@h/p"},
     "POINTSNET_READ_DATABASE_URL must be a PostgreSQL standby (postgresql+psycopg://user@host/db"
     "), got 'sqlite:///replica.db'"),
    ({"READ_DATABASE_URL": "postgresql://a@h"},
     "POINTSNET_READ_DATABASE_URL names no database: add its name after the host, e.g. "
     "postgresql+psycopg://user@host/pointsnet"),
    ({"READ_DATABASE_URL": "postgresql://a@h/p", "DATABASE_URL": "sqlite:///points.db"},
     "POINTSNET_READ_DATABASE_URL needs a PostgreSQL primary; POINTSNET_DATABASE_URL is "
     "'sqlite:///points.db'"),
    ({"READ_MAX_LAG_SECONDS": "0"}, "POINTSNET_READ_MAX_LAG_SECONDS must be a number of seconds "
                                    "above 0 and at most 3600, got '0'"),
    ({"READ_MAX_LAG_SECONDS": "soon"}, "POINTSNET_READ_MAX_LAG_SECONDS must be a number of "
                                       "seconds above 0 and at most 3600, got 'soon'"),
])
def test_a_bad_read_replica_setting_is_named(monkeypatch: pytest.MonkeyPatch,
                                             env: dict[str, str], message: str) -> None:
    monkeypatch.delenv("POINTSNET_DATABASE_URL", raising=False)
    assert _problems(monkeypatch, **env) == [message]
