"""network.money: exact integer minor units, half-even rounding, ISO 4217 exponents."""

from decimal import Decimal

import pytest

from network.money import Money, MoneyError, currency_exponent, round_half_even


def test_half_even_rounding_of_ties_and_non_ties() -> None:
    assert [round_half_even(Decimal(v)) for v in ("0.5", "1.5", "2.5", "-2.5", "2.51", "-0.49")] \
        == [0, 2, 2, -2, 3, 0]


def test_from_major_uses_currency_exponent() -> None:
    assert Money.from_major("12.345", "EUR") == Money(1234, "EUR")
    assert Money.from_major("12.355", "EUR") == Money(1236, "EUR")
    assert Money.from_major("1234.5", "JPY") == Money(1234, "JPY")
    assert Money.from_major("1.2345", "KWD") == Money(1234, "KWD")
    assert currency_exponent("USD") == 2


def test_arithmetic_and_format() -> None:
    total = Money(123456, "EUR") + Money(-6, "EUR")
    assert total == Money(123450, "EUR")
    assert total.format() == "1,234.50 EUR"
    assert (-total).to_major() == Decimal("-1234.50")


@pytest.mark.parametrize("bad", ["eur", "EURO", "", "E1R"])
def test_bad_currency_is_rejected(bad: str) -> None:
    with pytest.raises(MoneyError, match="ISO 4217"):
        Money(1, bad)


def test_mixing_currencies_is_an_error() -> None:
    with pytest.raises(MoneyError, match="mismatch"):
        Money(1, "EUR") + Money(1, "USD")


def test_amount_must_be_int() -> None:
    with pytest.raises(MoneyError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
