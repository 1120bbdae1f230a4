"""A partner's contract terms as pure values: what a purchase earns, how long the points stay
pending and valid, and which version of the terms is in force when.

Nothing here reads or writes the database: `partners/contracts.py` stores the versions and maps
their rows to `Terms`; the earn (`partners/earning.py`) and settlement take the terms from there.
Contracts are versioned by `effective_from`; an earn uses the version in force at the moment the
hub books it, so a new rate applies from its start date and history stays explainable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from network.clock import add_months, as_utc
from network.ledger.errors import InvalidAmount, InvalidInput, LedgerError
from network.ledger.rules import Credit
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


def lot_dates(terms: Terms, at: datetime) -> tuple[datetime, datetime]:
    """When an earn's lot vests and expires: the contract and the moment decide, not the
    purchase (so a batch computes them once, not per line)."""
    vests_at = as_utc(at) + timedelta(days=terms.pending_days)
    return vests_at, add_months(vests_at, terms.validity_months)


def plan_earn(
    terms: Terms,
    *,
    amount_minor: int,
    currency: str,
    network_currency: str,
    explicit_points: int | None,
    at: datetime,
    dates: tuple[datetime, datetime] | None = None,
) -> Credit:
    """Points for a purchase: amount (major units) x earn rate, rounded once, half-even; the
    lot vests after the pending days and stays valid for the validity months (a ledger `Credit`).

    Explicit points replace the computation only where the contract allows it (e.g. a
    promotion the partner funds itself); the purchase amount is still required for the record.
    `dates`: `lot_dates(terms, at)`, when the caller plans many purchases at one moment.
    """
    vests_at, expires_at = dates or lot_dates(terms, at)
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
    return Credit(points, vests_at, expires_at)
