"""Member card numbers: 16 digits, the last a Luhn check digit, so a mistyped digit at the till
is caught before any lookup."""

from __future__ import annotations

import secrets

CARD_PREFIX = "70"  # our range; 16 digits in all
CARD_LENGTH = 16

_PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalize(card_number: str) -> str:
    """Strip spaces and dashes, and read Persian or Arabic-Indic digits as ASCII."""
    return card_number.translate(_PERSIAN_DIGITS).replace(" ", "").replace("-", "")


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit doubled, its digits summed


def luhn_check_digit(payload: str) -> str:
    digits = [int(ch) for ch in reversed(payload)]  # from the check digit's neighbour leftwards
    total = sum(_DOUBLED[d] for d in digits[0::2]) + sum(digits[1::2])
    return str((10 - total % 10) % 10)


def is_valid(card_number: str) -> bool:
    n = normalize(card_number)
    return (len(n) == CARD_LENGTH and n.isdigit() and n.isascii()
            and luhn_check_digit(n[:-1]) == n[-1])


def generate() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789")
                                 for _ in range(CARD_LENGTH - len(CARD_PREFIX) - 1))
    return body + luhn_check_digit(body)


def grouped(card_number: str) -> str:
    """'7012 3456 7890 1234' for printing."""
    return " ".join(card_number[i:i + 4] for i in range(0, len(card_number), 4))
