"""TOTP against RFC 6238's appendix B vectors (SHA-1, 8 digits) and RFC 4226's HOTP table."""

from __future__ import annotations

import base64

import pytest

from network.backoffice import totp

RFC_KEY = b"12345678901234567890"
SECRET = base64.b32encode(RFC_KEY).decode().rstrip("=")


@pytest.mark.parametrize(("count", "code"), list(enumerate(
    ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
     "520489"])))
def test_hotp_rfc4226_appendix_d(count: int, code: str) -> None:
    assert totp.hotp(RFC_KEY, count) == code


@pytest.mark.parametrize(("unix", "code"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")])
def test_totp_rfc6238_appendix_b_sha1(unix: int, code: str) -> None:
    assert totp.hotp(RFC_KEY, totp.step(unix), digits=8) == code


def test_a_code_matches_its_step_and_its_neighbours_but_not_twice() -> None:
    now = 1_700_000_000
    code = totp.code_at(SECRET, now)
    step = totp.matching_step(SECRET, code, now)
    assert step == totp.step(now)
    assert totp.matching_step(SECRET, code, now + 30) == step  # one step of drift
    assert totp.matching_step(SECRET, code, now + 90) is None  # too late
    assert totp.matching_step(SECRET, code, now, after_step=step) is None  # spent
    assert totp.matching_step(SECRET, "12345", now) is None
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert totp.matching_step(SECRET, persian, now) == step


def test_provisioning_uri_names_issuer_account_and_secret() -> None:
    uri = totp.provisioning_uri(SECRET, "ops@example.com")
    assert uri.startswith("otpauth://totp/Points%20Network%3Aops%40example.com?")
    assert f"secret={SECRET}" in uri and "issuer=Points+Network" in uri
