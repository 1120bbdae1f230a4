"""Phone numbers typed the way people type them are one E.164 number (network/phones.py)."""

from __future__ import annotations

import pytest

from network import phones
from network.config import ConfigError, Settings
from network.ledger.errors import InvalidInput

MARYAM = "+989351112233"


@pytest.mark.parametrize("typed", [
    "09351112233",  # the usual Iranian way
    "۰۹۳۵۱۱۱۲۲۳۳",  # the same in Persian digits
    "٠٩٣٥١١١٢٢٣٣",  # and in Arabic-Indic digits
    "0935 111 2233", "0935-111-2233", "(0935) 111 2233", "0935\u00a0111\u20072233",
    "9351112233",  # without the trunk 0
    "+98 935 111 2233", "+۹۸۹۳۵۱۱۱۲۲۳۳", "0098 935 111 2233", "۰۰۹۸۹۳۵۱۱۱۲۲۳۳",
    "+९८९३५१११२२३३",  # Devanagari: one more spelling of the same number, not a second number
    "+９８９３５１１１２２３３",  # fullwidth
])
def test_every_spelling_of_an_iranian_mobile_is_one_e164_number(typed):
    assert phones.normalize(typed, "IR") == MARYAM


def test_the_default_country_decides_what_a_national_number_means():
    assert phones.normalize("07700 900123", "GB") == "+447700900123"
    assert phones.normalize("07700 900123", "IR") != "+447700900123"
    # A number with its country code is the same number whatever the network's country.
    assert phones.normalize("+44 7700 900123", "IR") == "+447700900123"
    assert phones.normalize("0044 7700 900123", "US") == "+447700900123"


@pytest.mark.parametrize("typed", [
    "12",  # too short to be a number anywhere
    "+98912123456²",  # a superscript is not a digit of a number
    "+98 912 CALL ME",  # no letters (vanity numbers reach no SMS gateway)
    "09351112233x",
    "+999 123 456 789",  # no such country code
    "0935111223344556677",  # too long
    "+98 912 123 45",  # too short for Iran
    "",
])
def test_what_is_no_phone_number_is_invalid_phone_naming_the_field(typed):
    with pytest.raises(InvalidInput) as refused:
        phones.normalize(typed, "IR", field="address")
    assert (refused.value.code, refused.value.field) == ("INVALID_PHONE", "address")


def test_the_default_country_is_a_setting_checked_at_start(monkeypatch):
    monkeypatch.setenv("POINTSNET_DEFAULT_COUNTRY", "gb")
    assert Settings.from_env().default_country == "GB"
    monkeypatch.setenv("POINTSNET_DEFAULT_COUNTRY", "XX")
    with pytest.raises(ConfigError, match="POINTSNET_DEFAULT_COUNTRY"):
        Settings.from_env()
    monkeypatch.delenv("POINTSNET_DEFAULT_COUNTRY")
    assert Settings.from_env().default_country == "IR"


@pytest.mark.parametrize("value", ["abc", "-0.01", "NaN", "Infinity"])
def test_the_point_value_is_a_decimal_of_at_least_zero(monkeypatch, value):
    monkeypatch.setenv("POINTSNET_POINT_VALUE", value)
    with pytest.raises(ConfigError, match="POINTSNET_POINT_VALUE"):
        Settings.from_env()
