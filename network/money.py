"""Money as integer minor units plus an ISO 4217 currency.

Why integers: settlement must be exact to the minor unit and its totals must be sums of
rounded lines, so a value is rounded exactly once (half-even, the banker's rounding that
does not drift upward over many lines) when a Decimal price meets a point count, and from
then on only integers are added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
_CODE = re.compile(r"^[A-Z]{3}$")


class MoneyError(ValueError):
    """A currency code or amount that cannot be represented exactly."""


def check_currency(currency: str) -> str:
    """Return the code if it looks like ISO 4217 (three upper-case letters), else raise."""
    if not isinstance(currency, str) or not _CODE.match(currency):
        raise MoneyError(f"currency must be a three-letter ISO 4217 code, got {currency!r}")
    return currency


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    return _EXPONENT_EXCEPTIONS.get(check_currency(currency), 2)


def round_half_even(value: Decimal) -> int:
    """Round a Decimal to the nearest integer, ties to even. The one rounding rule we use."""
    try:
        return int(Decimal(value).to_integral_value(rounding=ROUND_HALF_EVEN))
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"cannot round {value!r} to an integer amount") from exc


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An exact amount: `amount_minor` minor units (cents) of `currency`."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise MoneyError(f"amount_minor must be an int, got {self.amount_minor!r}")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_minor_decimal(cls, minor: Decimal, currency: str) -> Money:
        """Round a fractional number of minor units (e.g. points x price) half-even."""
        return cls(round_half_even(minor), currency)

    @classmethod
    def from_major(cls, major: Decimal | str, currency: str) -> Money:
        """Convert a major-unit amount ("12.345" EUR) to minor units, rounding half-even."""
        scaled = Decimal(major).scaleb(currency_exponent(currency))
        return cls(round_half_even(scaled), currency)

    def to_major(self) -> Decimal:
        """The exact major-unit Decimal, e.g. Money(1234, 'EUR') -> Decimal('12.34')."""
        return Decimal(self.amount_minor).scaleb(-currency_exponent(self.currency))

    def format(self) -> str:
        """Human form with thousands separators: '1,234.50 EUR', '-3 JPY'."""
        exp = currency_exponent(self.currency)
        return f"{self.to_major():,.{exp}f} {self.currency}"

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount_minor), self.currency)

    def __str__(self) -> str:
        return self.format()
