"""A partner's contract terms as the partner API uses them: how many points a purchase earns,
how long they stay pending, how long they stay valid.

Contracts are versioned by `effective_from`; an earn uses the version in force at the moment the
hub books it, so a new rate applies from its start date and history stays explainable.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from network.clock import as_utc
from network.db.schema import contracts
from network.ledger.errors import InvalidAmount, InvalidInput, LedgerError
from network.money import MoneyError, currency_exponent, round_half_even


class NoContract(LedgerError):
    code = "NO_CONTRACT"


class ExplicitPointsNotAllowed(LedgerError):
    code = "EXPLICIT_POINTS_NOT_ALLOWED"


# The bounds Terms.validate enforces; the command line's options take them too.
PENDING_DAYS = (0, 365)
VALIDITY_MONTHS = (1, 120)
NETWORK_FEE_BPS = (0, 10_000)


@dataclass(frozen=True)
class Terms:
    earn_points_per_unit: Decimal
    allow_explicit_points: bool = False
    pending_days: int = 0
    validity_months: int = 24
    clearing_price_per_point: Decimal = Decimal("0.5")
    network_fee_bps: int = 0
    donation_value_per_point: Decimal = Decimal("0.5")
    breakage_price_per_point: Decimal = Decimal("0")
    own_redemption_fee_per_point: Decimal = Decimal("0")

    def validate(self) -> None:
        if self.earn_points_per_unit < 0:
            raise InvalidInput("the earn rate cannot be negative", field="earnRate")
        if not PENDING_DAYS[0] <= self.pending_days <= PENDING_DAYS[1]:
            raise InvalidInput("pending days are between 0 and 365", field="pendingDays")
        if not VALIDITY_MONTHS[0] <= self.validity_months <= VALIDITY_MONTHS[1]:
            raise InvalidInput("validity is 1 to 120 months", field="validityMonths")
        if not NETWORK_FEE_BPS[0] <= self.network_fee_bps <= NETWORK_FEE_BPS[1]:
            raise InvalidInput("the network fee is 0 to 10000 bps", field="networkFeeBps")
        for name in ("clearing_price_per_point", "donation_value_per_point",
                     "breakage_price_per_point", "own_redemption_fee_per_point"):
            value = getattr(self, name)
            if not value.is_finite() or value < 0:
                raise InvalidInput(f"{name.replace('_', ' ')} must be 0 or more, got {value}",
                                   field=name)


def add_contract(conn: Connection, party_id: int, terms: Terms, *, effective_from: datetime,
                 now: datetime) -> int:
    terms.validate()
    return conn.execute(
        insert(contracts)
        .values(
            party_id=party_id,
            # In UTC: SQLite keeps a datetime's wall-clock time and drops its zone.
            effective_from=as_utc(effective_from),
            earn_points_per_unit=terms.earn_points_per_unit,
            allow_explicit_points=terms.allow_explicit_points,
            pending_days=terms.pending_days,
            validity_months=terms.validity_months,
            clearing_price_per_point=terms.clearing_price_per_point,
            network_fee_bps=terms.network_fee_bps,
            donation_value_per_point=terms.donation_value_per_point,
            breakage_price_per_point=terms.breakage_price_per_point,
            own_redemption_fee_per_point=terms.own_redemption_fee_per_point,
            created_at=now,
        )
        .returning(contracts.c.id)
    ).scalar_one()


def in_force(conn: Connection, party_id: int, at: datetime) -> Terms:
    row = conn.execute(
        select(contracts)
        .where(contracts.c.party_id == party_id, contracts.c.effective_from <= at)
        .order_by(contracts.c.effective_from.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NoContract("this partner has no contract in force; ask the network to set one up")
    return _terms(row)


# How a caller reads the terms in force: `in_force`, or a TermsCache's.
TermsLoader = Callable[[Connection, int, datetime], Terms]


class TermsCache:
    """Every contract version of a partner, kept for a few seconds per process.

    An earn reads its partner's terms on every request; versions are dated (`effective_from`),
    so a cached list still picks the right version as time passes. Only a version inserted with
    a start date already in the past is seen up to `ttl` seconds late.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._versions: dict[int, tuple[float, list[tuple[datetime, Terms]]]] = {}

    def fresh(self, party_id: int, at: datetime) -> Terms | None:
        """The terms in force at `at` if the cached versions are recent enough, else None."""
        cached = self._versions.get(party_id)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            return None
        return pick(cached[1], at)

    def in_force(self, conn: Connection, party_id: int, at: datetime) -> Terms:
        terms = self.fresh(party_id, at)
        if terms is not None:
            return terms
        found = versions(conn, party_id)
        self._versions[party_id] = (time.monotonic(), found)
        terms = pick(found, at)
        if terms is None:
            raise NoContract("this partner has no contract in force; ask the network to set "
                             "one up")
        return terms


def versions(conn: Connection, party_id: int) -> list[tuple[datetime, Terms]]:
    """Every version of a partner's contract with its start (UTC), latest first."""
    rows = conn.execute(select(contracts).where(contracts.c.party_id == party_id)
                        .order_by(contracts.c.effective_from.desc())).all()
    return [(as_utc(r.effective_from), _terms(r)) for r in rows]


def pick(versions: list[tuple[datetime, Terms]], at: datetime) -> Terms | None:
    """The version in force at `at` among `versions` (latest first), if any."""
    return next((terms for effective_from, terms in versions if effective_from <= at), None)


def plan_version(existing: list[tuple[datetime, Terms]], changes: dict[str, Any], *,
                 effective_from: datetime, now: datetime) -> Terms:
    """The terms of a new version from `effective_from`: those in force then, with `changes`.

    Only a start after `now`: earns already booked, and settlement periods already closed, were
    computed with the terms in force at the time, so a back-dated version would make them
    disagree with their own contract (a period is closed only once it is over, so a future
    start can never fall inside a closed one). One version per start instant.
    """
    effective_from, now = as_utc(effective_from), as_utc(now)
    if effective_from <= now:
        raise InvalidInput(f"a new contract version must start in the future, not at "
                           f"{effective_from.isoformat()} (now: "
                           f"{now.isoformat(timespec='seconds')}); what was earned and settled "
                           "keeps the terms it had",
                           field="from", code="CONTRACT_START_IN_PAST")
    if any(start == effective_from for start, _ in existing):
        raise InvalidInput(f"a contract version already starts at {effective_from.isoformat()}",
                           field="from", code="CONTRACT_VERSION_EXISTS")
    base = pick(existing, effective_from)
    if base is None:
        raise NoContract("this partner has no contract to change", field="partner")
    terms = replace(base, **changes)
    terms.validate()
    return terms


def _terms(row: Any) -> Terms:
    return Terms(
        earn_points_per_unit=Decimal(row.earn_points_per_unit),
        allow_explicit_points=bool(row.allow_explicit_points),
        pending_days=row.pending_days,
        validity_months=row.validity_months,
        clearing_price_per_point=Decimal(row.clearing_price_per_point),
        network_fee_bps=row.network_fee_bps,
        donation_value_per_point=Decimal(row.donation_value_per_point),
        breakage_price_per_point=Decimal(row.breakage_price_per_point),
        own_redemption_fee_per_point=Decimal(row.own_redemption_fee_per_point),
    )


def add_months(at: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class EarnPlan:
    points: int
    vests_at: datetime
    expires_at: datetime


def plan_earn(
    terms: Terms,
    *,
    amount_minor: int,
    currency: str,
    network_currency: str,
    explicit_points: int | None,
    at: datetime,
) -> EarnPlan:
    """Points for a purchase: amount (major units) x earn rate, rounded once, half-even.

    Explicit points replace the computation only where the contract allows it (e.g. a
    promotion the partner funds itself); the purchase amount is still required for the record.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidAmount("the purchase amount must be a positive number of minor units",
                            field="amount")
    try:  # a code that is no currency at all ("EURO") is a typo, not the wrong currency
        exponent = currency_exponent(currency)
    except MoneyError as exc:
        raise InvalidInput(str(exc), field="currency", code="INVALID_CURRENCY") from exc
    if currency != network_currency:
        raise InvalidInput(
            f"purchases are in {network_currency}, the network's currency, not {currency}",
            field="currency", code="CURRENCY_MISMATCH",
        )
    if explicit_points is not None:
        if not terms.allow_explicit_points:
            raise ExplicitPointsNotAllowed(
                "your contract computes points from the amount; omit points", field="points"
            )
        points = explicit_points
    else:
        points = round_half_even(Decimal(amount_minor).scaleb(-exponent)
                                 * terms.earn_points_per_unit)
        if points <= 0:
            raise InvalidAmount("this amount earns no points at your contract's rate",
                                field="amount", code="AMOUNT_EARNS_NOTHING")
    at = as_utc(at)
    vests_at = at + timedelta(days=terms.pending_days)
    return EarnPlan(points, vests_at, add_months(vests_at, terms.validity_months))
