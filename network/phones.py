"""Phone numbers as people type them, read as the one E.164 number an SMS gateway dials.

A member in Iran types `0935 111 2233`, `۰۹۳۵۱۱۱۲۲۳۳` or `+98 935 111 2233`: all are
+989351112233. Every place that reads a phone (a partner enrolling a member, a member signing in
or changing their contact details) goes through `normalize`, so all of them store and look up the
same keyed hash (network/pii.py) whichever way the number was typed. Otherwise a national
spelling would be "an unknown address" at sign-in, and a second spelling of a member's number
would dodge MEMBER_EXISTS at enrolment.

Google's numbering-plan data (the `phonenumbers` library) decides what a national number means
in the network's default country (POINTSNET_DEFAULT_COUNTRY). We require a *possible* number
(the right length for its country), not a *valid* one (an allocated range): the plan data lags
new ranges, and refusing a real member's new number is worse than one undelivered code.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

from network.config import get_settings
from network.ledger.errors import InvalidInput

# Separators people and contact apps put in a number; they mean nothing.
_SEPARATORS = re.compile(r"[\s\-().\u2010-\u2015/]")
_DIALLABLE = re.compile(r"^\+?[0-9]+$")


def ascii_decimal_digits(text: str) -> str:
    """Each decimal digit of any script (Persian, Arabic-Indic, Devanagari, fullwidth...) as its
    ASCII digit. Only decimal digits (category Nd): '²' or '½' are not digits of a number."""
    return "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and
                   unicodedata.category(ch) == "Nd" else ch for ch in text)


def normalize(raw: str, country: str | None = None, field: str = "phone") -> str:
    """The E.164 form (`+989351112233`) of a phone typed in international or `country`'s national
    format, or INVALID_PHONE naming `field`. Callers holding the app's settings pass their
    `default_country`; others get the process's (POINTSNET_DEFAULT_COUNTRY)."""
    text = _SEPARATORS.sub("", ascii_decimal_digits(raw))
    if text.startswith("00"):  # the international prefix most of the world dials
        text = "+" + text[2:]
    # Letters (vanity numbers), superscripts and the like reach no SMS gateway.
    if not _DIALLABLE.match(text) or not 4 <= len(text.lstrip("+")) <= 15:
        raise _invalid(field)
    try:
        number = phonenumbers.parse(text, country or get_settings().default_country)
    except phonenumbers.NumberParseException:
        raise _invalid(field) from None
    if phonenumbers.is_possible_number_with_reason(number) != \
            phonenumbers.ValidationResult.IS_POSSIBLE:
        raise _invalid(field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid(field: str) -> InvalidInput:
    return InvalidInput("that is not a phone number: give it with its country code "
                        "(+98 912 123 4567) or as dialled in the network's country",
                        field=field, code="INVALID_PHONE")


@lru_cache(maxsize=8)
def examples(country: str) -> tuple[str, str]:
    """A mobile number of `country` as dialled there and with its country code, for hints:
    ("0912\u00a0345\u00a06789", "+98\u00a0912\u00a0345\u00a06789") for IR. No-break spaces, so
    a narrow screen never breaks a number in the middle."""
    number = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:  # a region without mobile examples: any example will do
        number = phonenumbers.example_number(country)
    return tuple(phonenumbers.format_number(number, style).replace(" ", "\u00a0")  # type: ignore[return-value]
                 for style in (phonenumbers.PhoneNumberFormat.NATIONAL,
                               phonenumbers.PhoneNumberFormat.INTERNATIONAL))
