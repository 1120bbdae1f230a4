"""Configuration from environment variables, all prefixed POINTSNET_.

The defaults run the hub on a SQLite file in the working directory, so `pointsnet serve --demo`
works on a fresh clone with nothing else set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers

PREFIX = "POINTSNET_"

# A development-only secret: fine for the embedded demo, refused in production (see validate()).
DEV_SECRET = "pointsnet-development-secret-not-for-production"


class ConfigError(ValueError):
    """A POINTSNET_* variable holds a value the hub cannot use; the message names the variable,
    and the command line prints it in one line instead of a traceback."""


def _env(name: str, default: str) -> str:
    return os.environ.get(PREFIX + name, default)


def _int_env(name: str, default: int) -> int:
    value = _env(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {value!r}") from None


def _decimal_env(name: str, default: Decimal) -> Decimal:
    value = _env(name, str(default))
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{PREFIX}{name} must be a decimal number of at least 0, got {value!r}")
    return number


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///pointsnet.db"
    env: str = "development"  # development | test | production
    secret_key: str = DEV_SECRET  # derives the PII encryption and lookup keys
    currency: str = "EUR"  # the network's one settlement currency (ISO 4217)
    timezone: str = "UTC"  # settlement periods are calendar months in this zone
    member_transfers: bool = False  # may members give points to each other?
    base_url: str = "http://127.0.0.1:8000"
    graphql_threads: int = 4  # per server process; see infra/graphql_endpoint.py
    # Phones typed without a country code are national numbers of this country (ISO 3166).
    default_country: str = "IR"
    # The published value of one point in `currency`, shown beside the member's spendable points.
    point_value: Decimal = Decimal("0.005")
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls) -> Settings:
        settings = cls(
            database_url=_env("DATABASE_URL", cls.database_url),
            env=_env("ENV", cls.env),
            secret_key=_env("SECRET_KEY", cls.secret_key),
            currency=_env("CURRENCY", cls.currency).upper(),
            timezone=_env("TIMEZONE", cls.timezone),
            member_transfers=_env("MEMBER_TRANSFERS", "0").lower() in {"1", "true", "yes"},
            base_url=_env("BASE_URL", cls.base_url),
            graphql_threads=_int_env("GRAPHQL_THREADS", cls.graphql_threads),
            default_country=_env("DEFAULT_COUNTRY", cls.default_country).upper(),
            point_value=_decimal_env("POINT_VALUE", cls.point_value),
            extra={k[len(PREFIX):]: v for k, v in os.environ.items() if k.startswith(PREFIX)},
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.production and self.secret_key == DEV_SECRET:
            raise ConfigError("POINTSNET_SECRET_KEY must be set in production")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ConfigError(f"POINTSNET_CURRENCY must be an ISO 4217 code, got {self.currency!r}")
        if not 1 <= self.graphql_threads <= 64:
            raise ConfigError("POINTSNET_GRAPHQL_THREADS must be 1 to 64, got "
                              f"{self.graphql_threads}")
        if self.default_country not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError("POINTSNET_DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country "
                              f"code such as IR or GB, got {self.default_country!r}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
