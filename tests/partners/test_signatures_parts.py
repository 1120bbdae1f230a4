"""Structured fields, Content-Digest, the raw request parser and the verifier's checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partners.signatures import (
    DigestError,
    HttpRequest,
    MessageError,
    SignatureError,
    check_time,
    content_digest,
    load_private_key,
    parse_raw_request,
    parse_signatures,
    render_raw_request,
    sign_request,
    verify_content_digest,
    verify_request,
)
from partners.signatures.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    parse_item,
    parse_list,
    serialize_bare_item,
    serialize_dictionary,
)
from tests.partners import rfc9421_vectors as v

KEY = load_private_key(v.TEST_KEY_ED25519_PRIVATE)


def test_dictionary_round_trip_keeps_types() -> None:
    members = parse_dictionary('a=1, b=2.5;x, c="s\\"q", d=tok, e=:AQI=:, f=?0, g=("x" y);p=1, h')
    assert members["a"] == Item(1)
    assert members["b"] == Item(Decimal("2.5"), {"x": True})
    assert members["c"] == Item('s"q')
    assert members["d"] == Item(Token("tok"))
    assert members["e"] == Item(b"\x01\x02")
    assert members["f"] == Item(False)
    assert members["g"] == InnerList([Item("x"), Item(Token("y"))], {"p": 1})
    assert members["h"] == Item(True)
    assert serialize_dictionary(members) == (
        'a=1, b=2.5;x, c="s\\"q", d=tok, e=:AQI=:, f=?0, g=("x" y);p=1, h'
    )


@pytest.mark.parametrize(
    "text",
    [
        "a=",
        "A=1",
        "a=1,",
        "a=(1 2",
        'a="open',
        "a=:!!:",
        "a=1 b=2",
        "a=1234567890123456",
        'a="\\x"',
        'a="tab\there"',
        'a="del\x7f"',
        'a="ends with a backslash\\"',
        "a=?2",
        "a=é",
    ],
)
def test_malformed_dictionaries_are_rejected(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


def test_byte_sequences_tolerate_missing_padding_and_non_zero_pad_bits() -> None:
    """RFC 8941 section 4.2.7: parsers SHOULD NOT fail on either. `AQI=` and `AQJ=` differ only
    in the two spare bits of their last character, so both are the bytes 01 02; a signature
    re-encoded that way is the same signature (the fuzz test of signed headers meets this)."""
    assert parse_item(":AQI=:") == parse_item(":AQJ=:") == parse_item(":AQI:") == Item(b"\x01\x02")


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_every_printable_string_survives_serialize_then_parse(value: str) -> None:
    assert parse_item(serialize_bare_item(value)) == Item(value)


def test_string_escapes_and_empty_strings() -> None:
    assert parse_dictionary('a="", b="back\\\\slash", c="\\"q\\""') == {
        "a": Item(""), "b": Item("back\\slash"), "c": Item('"q"')}


def test_list_parsing() -> None:
    assert parse_list("1, (a b), c;d") == [
        Item(1),
        InnerList([Item(Token("a")), Item(Token("b"))]),
        Item(Token("c"), {"d": True}),
    ]


def test_content_digest_matches_rfc_9530_examples() -> None:
    assert content_digest(v.BODY, "sha-256") == v.SHA256_DIGEST
    assert content_digest(v.BODY, "sha-512") == v.SHA512_DIGEST
    assert verify_content_digest(v.SHA512_DIGEST, v.BODY) == ["sha-512"]
    both = f"{v.SHA256_DIGEST}, {v.SHA512_DIGEST}, md5=:AAAA:"
    assert verify_content_digest(both, v.BODY) == ["sha-256", "sha-512"]


@pytest.mark.parametrize(
    ("field", "code"),
    [
        (None, "DIGEST_MISSING"),
        ("sha-256=", "DIGEST_MALFORMED"),
        ("sha-256=abc", "DIGEST_MALFORMED"),
        ("md5=:AAAA:", "DIGEST_UNSUPPORTED"),
        (v.SHA256_DIGEST, "DIGEST_MISMATCH"),
    ],
)
def test_content_digest_failures(field: str | None, code: str) -> None:
    with pytest.raises(DigestError) as info:
        verify_content_digest(field, b'{"hello": "World"}')
    assert info.value.code == code


def test_raw_request_with_bare_newlines_and_chunked_body() -> None:
    raw = (
        b"POST http://hub.test:8000/graphql?x=1 HTTP/1.1\n"
        b"Host: hub.test:8000\n"
        b"Transfer-Encoding: chunked\n\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    request = parse_raw_request(raw)
    assert request.body == b"hello world"
    assert request.authority == "hub.test:8000"
    assert request.scheme == "http"
    assert request.query == "x=1"


def test_render_then_parse_round_trip() -> None:
    request = HttpRequest("POST", "http://127.0.0.1:8000/graphql", [("Content-Type", "a/b")], b"{}")
    again = parse_raw_request(render_raw_request(request), scheme="http")
    assert again.target_uri == request.target_uri
    assert again.header("content-type") == "a/b"
    assert again.body == b"{}"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"GARBAGE\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nbad line\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nshort",
    ],
)
def test_raw_request_errors(raw: bytes) -> None:
    with pytest.raises(MessageError):
        parse_raw_request(raw)


def _signed(**kwargs: object) -> HttpRequest:
    request = HttpRequest(
        "POST", "https://hub.test/graphql", [("Content-Type", "application/json")]
    )
    return sign_request(request, key=KEY, key_id="k1", covered=["@method", "@path"], **kwargs)


def test_check_time_window() -> None:
    [parsed] = parse_signatures(_signed(created=1000))
    check_time(parsed, 1300, 300)
    check_time(parsed, 700, 300)
    for now in (1301, 699):
        with pytest.raises(SignatureError) as info:
            check_time(parsed, now, 300)
        assert info.value.code == "SIGNATURE_EXPIRED"


def test_expires_parameter_is_enforced() -> None:
    [parsed] = parse_signatures(_signed(created=1000, expires=1010))
    check_time(parsed, 1009, None)
    with pytest.raises(SignatureError, match="expired"):
        check_time(parsed, 1010, None)


def test_missing_and_malformed_signature_fields() -> None:
    bare = HttpRequest("GET", "https://hub.test/")
    with pytest.raises(SignatureError) as info:
        parse_signatures(bare)
    assert info.value.code == "SIGNATURE_MISSING"
    cases = [
        ([("Signature-Input", "sig=()"), ("Signature", "other=:AA==:")], "SIGNATURE_MISSING"),
        ([("Signature-Input", "sig=1"), ("Signature", "sig=:AA==:")], "SIGNATURE_MALFORMED"),
        (
            [("Signature-Input", "sig=();created=x"), ("Signature", "sig=:AA==:")],
            "SIGNATURE_MALFORMED",
        ),
        ([("Signature-Input", "sig=()"), ("Signature", 'sig="text"')], "SIGNATURE_MALFORMED"),
        ([("Signature-Input", "sig=(@path)"), ("Signature", "sig=:AA==:")], "SIGNATURE_MALFORMED"),
        ([("Signature-Input", "sig=(("), ("Signature", "sig=:AA==:")], "SIGNATURE_MALFORMED"),
    ]
    for headers, code in cases:
        with pytest.raises(SignatureError) as info:
            parse_signatures(bare.with_headers(headers))
        assert info.value.code == code, headers


def test_alg_parameter_must_match_the_key() -> None:
    signed = _signed(alg="ed25519")
    assert verify_request(signed, lambda parsed: KEY.public_key())
    with pytest.raises(SignatureError) as info:
        verify_request(signed, lambda parsed: b"secret")
    assert info.value.code == "SIGNATURE_INVALID"
    wrong = HttpRequest("GET", "https://hub.test/").with_headers(
        [("Signature-Input", 'sig=();alg="rsa-v1_5-sha256"'), ("Signature", "sig=:AA==:")]
    )
    with pytest.raises(SignatureError) as info:
        verify_request(wrong, lambda parsed: KEY.public_key())
    assert info.value.code == "ALGORITHM_UNSUPPORTED"


def test_signature_over_a_missing_header_cannot_be_resolved() -> None:
    request = sign_request(
        HttpRequest("GET", "https://hub.test/", [("X-Thing", "1")]),
        key=KEY,
        key_id="k",
        covered=["x-thing"],
    )
    stripped = HttpRequest(
        "GET", "https://hub.test/", [h for h in request.headers if h[0] != "X-Thing"]
    )
    with pytest.raises(SignatureError) as info:
        verify_request(stripped, lambda parsed: KEY.public_key())
    assert info.value.code == "COMPONENT_UNRESOLVABLE"
