"""Configuration from environment variables, all prefixed POINTSNET_.

The defaults run the hub on a SQLite file in the working directory, so `pointsnet serve --demo`
works on a fresh clone with nothing else set. Every value is checked when it is read, and every
bad one is reported (one line each, naming the variable), so an operator fixes them in one go
instead of meeting them one traceback at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from network.money import MoneyError, check_currency

PREFIX = "POINTSNET_"
T = TypeVar("T")

# A development-only secret: fine for the embedded demo, refused in production (see validate()).
DEV_SECRET = "pointsnet-development-secret-not-for-production"
ENVIRONMENTS = ("development", "test", "production")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# The one PostgreSQL driver installed; libpq's own spellings (postgres://, postgresql://) mean it.
PG_DRIVER = "postgresql+psycopg"
_PG_SPELLINGS = {"postgres", "postgresql", PG_DRIVER}
_SQLITE_SPELLINGS = {"sqlite", "sqlite+pysqlite"}


class ConfigError(ValueError):
    """A POINTSNET_* variable holds a value the hub cannot use (or names a database it cannot
    open). Each problem names its variable; the command line prints one line per problem
    instead of a traceback (network/cli_errors.py)."""

    def __init__(self, *problems: str, code: str = "BAD_SETTING") -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)
        self.code = code


def _env(name: str, default: str) -> str:
    return os.environ.get(PREFIX + name, default)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def database_url(value: str) -> str:
    """The URL the hub opens for POINTSNET_DATABASE_URL: PostgreSQL through psycopg, or SQLite.

    Raises ConfigError naming the variable; without this, SQLAlchemy's own errors surface as a
    traceback at the first query (`postgres://` is no dialect it knows, `postgresql://` means a
    driver that is not installed, `mysql://` a database the schema was never written for).
    """
    name = f"{PREFIX}DATABASE_URL"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"{name} is not a database URL, got {redact(value)!r}; e.g. "
                          "postgresql+psycopg://user@host/db or sqlite:///pointsnet.db") from None
    if url.drivername in _PG_SPELLINGS:
        if not url.database:
            raise ConfigError(f"{name} names no database: add its name after the host, "
                              f"e.g. {PG_DRIVER}://user@host/pointsnet")
        return url.set(drivername=PG_DRIVER).render_as_string(hide_password=False)
    if url.drivername.startswith("postgresql+"):
        raise ConfigError(f"{name} uses the driver {url.drivername.partition('+')[2]!r}; the "
                          f"hub uses psycopg: write {PG_DRIVER}://…")
    if url.drivername in _SQLITE_SPELLINGS:
        return value
    raise ConfigError(f"{name} must be a PostgreSQL ({PG_DRIVER}://user@host/db) or SQLite "
                      f"(sqlite:///path/file.db) URL, got {redact(value)!r}")


def read_database_url(value: str) -> str | None:
    """POINTSNET_READ_DATABASE_URL: empty for none, else a PostgreSQL URL (a streaming standby
    of the primary; network/db/read_database.py says what is read there)."""
    if not value:
        return None
    name = f"{PREFIX}READ_DATABASE_URL"
    try:
        url = database_url(value)
    except ConfigError as exc:
        raise ConfigError(*(p.replace(f"{PREFIX}DATABASE_URL", name) for p in exc.problems)
                          ) from None
    if not url.startswith(PG_DRIVER):
        raise ConfigError(f"{name} must be a PostgreSQL standby ({PG_DRIVER}://user@host/db), "
                          f"got {redact(value)!r}")
    return url


def _max_lag(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{PREFIX}READ_MAX_LAG_SECONDS must be a number of seconds above 0 "
                          f"and at most 3600, got {value!r}")
    return seconds


def _point_value(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{PREFIX}POINT_VALUE must be a decimal number of at least 0, "
                          f"got {value!r}")
    return number


def _points_limit(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > 10**9:
        raise ConfigError(f"{PREFIX}GOODWILL_APPROVAL_ABOVE must be a whole number of points "
                          f"from 0 to 1000000000, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///pointsnet.db"
    env: str = "development"  # development | test | production
    secret_key: str = DEV_SECRET  # derives the PII encryption and lookup keys
    currency: str = "EUR"  # the network's one settlement currency (ISO 4217)
    timezone: str = "UTC"  # settlement periods are calendar months in this zone
    member_transfers: bool = False  # may members give points to each other?
    # Gifts between members: the most points one member may give in any 24 hours, and whether
    # a gift waits for its receiver to accept it (network/wallet/gifts.py).
    gift_daily_limit: int = 5000
    gift_consent: bool = False
    base_url: str = "http://127.0.0.1:8000"
    graphql_threads: int = 4  # per server process; see infra/graphql_endpoint.py
    # Phones typed without a country code are national numbers of this country (ISO 3166).
    default_country: str = "IR"
    # The published value of one point in `currency`, shown beside the member's spendable points.
    point_value: Decimal = Decimal("0.005")
    # A streaming standby for read models (wallet, settlement preview), and how far behind the
    # primary it may be before they read the primary instead (network/db/read_database.py).
    read_database_url: str | None = None
    read_max_lag_seconds: float = 5.0
    # A console goodwill adjustment of more points than this waits for a second operator's
    # approval before it books (four-eyes; network/console/goodwill.py).
    goodwill_approval_above: int = 1000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls) -> Settings:
        problems: list[str] = []

        def read(name: str, default: str, parse: Callable[[str], T]) -> T:
            """The variable parsed; a bad one is noted and its default used, so that every
            other variable is still checked and reported in the same run."""
            value = _env(name, default)
            try:
                return parse(value)
            except ConfigError as exc:
                problems.extend(exc.problems)
            except ValueError:
                problems.append(f"{PREFIX}{name} must be a whole number, got {value!r}")
            return parse(default)

        settings = cls(
            database_url=read("DATABASE_URL", cls.database_url, database_url),
            env=_env("ENV", cls.env),
            secret_key=_env("SECRET_KEY", cls.secret_key),
            currency=_env("CURRENCY", cls.currency).upper(),
            timezone=_env("TIMEZONE", cls.timezone),
            member_transfers=read("MEMBER_TRANSFERS", "0", _flag("MEMBER_TRANSFERS")),
            gift_daily_limit=read("GIFT_DAILY_LIMIT", str(cls.gift_daily_limit), int),
            gift_consent=read("GIFT_CONSENT", "0", _flag("GIFT_CONSENT")),
            base_url=_env("BASE_URL", cls.base_url),
            graphql_threads=read("GRAPHQL_THREADS", str(cls.graphql_threads), int),
            default_country=_env("DEFAULT_COUNTRY", cls.default_country).upper(),
            point_value=read("POINT_VALUE", str(cls.point_value), _point_value),
            read_database_url=read("READ_DATABASE_URL", "", read_database_url),
            read_max_lag_seconds=read("READ_MAX_LAG_SECONDS", str(cls.read_max_lag_seconds),
                                      _max_lag),
            goodwill_approval_above=read("GOODWILL_APPROVAL_ABOVE",
                                         str(cls.goodwill_approval_above), _points_limit),
            extra={k[len(PREFIX):]: v for k, v in os.environ.items() if k.startswith(PREFIX)},
        )
        problems.extend(settings.problems())
        if problems:
            raise ConfigError(*problems)
        return settings

    def problems(self) -> list[str]:
        """Every value this hub cannot use, one message each."""
        found = []
        if self.env not in ENVIRONMENTS:
            found.append(f"{PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}")
        if not self.secret_key:
            found.append(f"{PREFIX}SECRET_KEY is empty")
        elif self.production and self.secret_key == DEV_SECRET:
            found.append(f"{PREFIX}SECRET_KEY must be set in production")
        try:
            check_currency(self.currency)
        except MoneyError:
            found.append(f"{PREFIX}CURRENCY must be an ISO 4217 code, got {self.currency!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(f"{PREFIX}TIMEZONE must be an IANA time zone such as UTC or "
                         f"Asia/Tehran, got {self.timezone!r}")
        if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", self.base_url):
            found.append(f"{PREFIX}BASE_URL must be an http(s) URL, got {self.base_url!r}")
        if not 1 <= self.graphql_threads <= 64:
            found.append(f"{PREFIX}GRAPHQL_THREADS must be 1 to 64, got {self.graphql_threads}")
        if not 0 <= self.gift_daily_limit <= 1_000_000_000:
            found.append(f"{PREFIX}GIFT_DAILY_LIMIT must be 0 to 1,000,000,000 points, got "
                         f"{self.gift_daily_limit}")
        if self.default_country not in phonenumbers.SUPPORTED_REGIONS:
            found.append(f"{PREFIX}DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country code "
                         f"such as IR or GB, got {self.default_country!r}")
        if self.read_database_url and not self.database_url.startswith(PG_DRIVER):
            found.append(f"{PREFIX}READ_DATABASE_URL needs a PostgreSQL primary; "
                         f"{PREFIX}DATABASE_URL is {redact(self.database_url)!r}")
        return found

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(*problems)


def _flag(name: str) -> Callable[[str], bool]:
    """A parser for a yes/no variable: a typo is an error, not a silent 'no'."""

    def parse(value: str) -> bool:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{PREFIX}{name} must be 1 or 0 (true/false, yes/no, on/off), "
                          f"got {value!r}")

    return parse


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
