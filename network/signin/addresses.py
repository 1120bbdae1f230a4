"""Reading 'a phone number or an email address' from what a member typed.

Normalisation is the members module's (network/phones.py, network/pii.py), so the address a
member signs in with hashes to exactly the lookup value stored when a partner enrolled them,
whichever way either of them typed the number (09351112233, +98 935 111 2233, Persian digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from network import phones, pii
from network.cards import normalize as ascii_digits
from network.config import get_settings
from network.ledger.errors import InvalidInput
from network.web.errors import WalletError

__all__ = ["Address", "ascii_digits", "mask", "parse_address", "parse_email", "parse_phone"]


@dataclass(frozen=True)
class Address:
    channel: Literal["email", "sms"]
    value: str

    @property
    def kind(self) -> Literal["email", "phone"]:
        return "email" if self.channel == "email" else "phone"


def parse_email(raw: str, field: str = "email") -> Address:
    try:
        return Address("email", pii.normalize_email(raw))
    except InvalidInput as exc:
        raise WalletError("INVALID_EMAIL", "Enter an email address like name@example.com.",
                          field=field) from exc


def parse_phone(raw: str, field: str = "phone", country: str | None = None) -> Address:
    """`country`: whose national numbers one without a country code is (the network's
    POINTSNET_DEFAULT_COUNTRY when None)."""
    try:
        return Address("sms", phones.normalize(raw, country, field))
    except InvalidInput as exc:
        national, international = phones.examples(country or get_settings().default_country)
        raise WalletError("INVALID_PHONE",
                          f"Enter the phone number as dialled in the network's country, e.g. "
                          f"{national}, or with its country code, e.g. {international}.",
                          field=field) from exc


def parse_address(raw: str | None, field: str = "address",
                  country: str | None = None) -> Address:
    """One input box takes either kind: an '@' means email, anything else must be a phone."""
    if raw is None or not raw.strip():
        raise WalletError("ADDRESS_REQUIRED", "Enter your phone number or email address.",
                          field=field)
    if len(raw) > 320:
        raise WalletError("INVALID_EMAIL" if "@" in raw else "INVALID_PHONE",
                          "That is too long to be a phone number or an email address.", field=field)
    if "@" in raw:
        return parse_email(raw, field)
    return parse_phone(raw, field, country)


def mask(address: Address) -> str:
    """Enough to recognise one's own address on screen, not enough to learn someone else's."""
    if address.channel == "email":
        local, _, domain = address.value.partition("@")
        return f"{local[:1]}{'•' * max(1, min(len(local) - 1, 5))}@{domain}"
    return f"{address.value[:3]}{'•' * max(1, len(address.value) - 5)}{address.value[-2:]}"
