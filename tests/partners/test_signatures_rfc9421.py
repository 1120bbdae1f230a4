"""The signature layer against RFC 9421's own examples (Appendix B and section 2)."""

from __future__ import annotations

import base64

import pytest

from partners.signatures import (
    HttpRequest,
    SignatureError,
    load_private_key,
    load_public_key,
    parse_raw_request,
    parse_signatures,
    sign_request,
    verify_request,
)
from partners.signatures.components import ComponentError, register_structured_field
from partners.signatures.signature_base import build_signature_base
from partners.signatures.signer import component
from partners.signatures.structured_fields import Item
from tests.partners import rfc9421_vectors as v


def _test_request(*extra: tuple[str, str]) -> HttpRequest:
    return parse_raw_request(v.TEST_REQUEST).with_headers(list(extra))


def test_b26_ed25519_signature_verifies_and_base_matches() -> None:
    request = _test_request(
        ("Signature-Input", v.B26_SIGNATURE_INPUT), ("Signature", v.B26_SIGNATURE)
    )
    public = load_public_key(v.TEST_KEY_ED25519_PUBLIC)
    [result] = verify_request(request, lambda parsed: public)
    assert result.base.text == v.B26_BASE
    assert result.parsed.label == "sig-b26"
    assert result.parsed.key_id == "test-key-ed25519"


def test_b26_signing_reproduces_the_rfc_signature_exactly() -> None:
    signed = sign_request(
        _test_request(),
        key=load_private_key(v.TEST_KEY_ED25519_PRIVATE),
        key_id="test-key-ed25519",
        covered=["date", "@method", "@path", "@authority", "content-type", "content-length"],
        label="sig-b26",
        created=1618884473,
        nonce="",
    )
    assert signed.header("signature-input") == v.B26_SIGNATURE_INPUT
    assert signed.header("signature") == v.B26_SIGNATURE


def test_b25_hmac_sha256_vector() -> None:
    secret = base64.b64decode(v.TEST_SHARED_SECRET_B64)
    signed = sign_request(
        _test_request(),
        key=secret,
        key_id="test-shared-secret",
        covered=["date", "@authority", "content-type"],
        label="sig-b25",
        created=1618884473,
        nonce="",
    )
    assert signed.header("signature") == v.B25_SIGNATURE
    assert verify_request(signed, lambda parsed: secret)


def test_b21_minimal_base_covers_nothing_but_params() -> None:
    base = build_signature_base(
        _test_request(),
        [],
        {"created": 1618884473, "keyid": "test-key-rsa-pss", "nonce": "b3k2pp5k7z-50gnwp.yemd"},
    )
    assert base.text == (
        '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
        ';nonce="b3k2pp5k7z-50gnwp.yemd"'
    )


def test_b23_full_coverage_base() -> None:
    covered = [
        component(c)
        for c in (
            "date",
            "@method",
            "@path",
            "@query",
            "@authority",
            "content-type",
            "content-digest",
            "content-length",
        )
    ]
    base = build_signature_base(
        _test_request(), covered, {"created": 1618884473, "keyid": "test-key-rsa-pss"}
    )
    assert base.text.splitlines()[:8] == [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@query": ?param=Value&Pet=dog',
        '"@authority": example.com',
        '"content-type": application/json',
        f'"content-digest": {v.SHA512_DIGEST}',
        '"content-length": 18',
    ]


def test_b22_query_param_component() -> None:
    base = build_signature_base(
        _test_request(),
        [
            component("@authority"),
            component("content-digest"),
            component('"@query-param";name="Pet"'),
        ],
        {"created": 1618884473, "keyid": "test-key-rsa-pss", "tag": "header-example"},
    )
    assert base.text == (
        '"@authority": example.com\n'
        f'"content-digest": {v.SHA512_DIGEST}\n'
        '"@query-param";name="Pet": dog\n'
        '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
        ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
    )


def _values(request: HttpRequest, *identifiers: str) -> list[str]:
    base = build_signature_base(request, [component(i) for i in identifiers], {})
    return [f"{ident}: {value}" for ident, value in base.lines]


def test_section_2_2_derived_components() -> None:
    request = parse_raw_request(b"POST /path?param=value HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
    assert _values(
        request,
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
    ) == [
        '"@method": POST',
        '"@target-uri": https://www.example.com/path?param=value',
        '"@authority": www.example.com',
        '"@scheme": https',
        '"@request-target": /path?param=value',
        '"@path": /path',
        '"@query": ?param=value',
    ]


def test_empty_query_is_a_bare_question_mark_and_default_port_is_dropped() -> None:
    request = HttpRequest("GET", "https://WWW.Example.com:443/path?", [])
    assert _values(request, "@query", "@authority") == [
        '"@query": ?',
        '"@authority": www.example.com',
    ]
    request = HttpRequest("GET", "http://example.com:8080", [])
    assert _values(request, "@path", "@authority") == [
        '"@path": /',
        '"@authority": example.com:8080',
    ]


def test_section_2_2_8_query_params_are_decoded_then_reencoded() -> None:
    request = HttpRequest(
        "GET",
        "https://example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something",
    )
    assert _values(
        request,
        '"@query-param";name="var"',
        '"@query-param";name="bar"',
        '"@query-param";name="fa%C3%A7ade%22%3A%20"',
    ) == [
        '"@query-param";name="var": this%20is%20a%20big%0Amultiline%20value',
        '"@query-param";name="bar": with%20plus%20whitespace',
        '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
    ]


FIELDS_EXAMPLE = (
    b"GET /foo HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"Date: Tue, 20 Apr 2021 02:07:56 GMT\r\n"
    b"X-OWS-Header:   Leading and trailing whitespace.   \r\n"
    b"X-Obs-Fold-Header: Obsolete\r\n"
    b"    line folding.\r\n"
    b"Cache-Control: max-age=60\r\n"
    b"Cache-Control:    must-revalidate\r\n"
    b"Example-Dict:  a=1,    b=2;x=1;y=2,   c=(a   b   c), d\r\n"
    b"Example-Header: value, with, lots\r\n"
    b"Example-Header: of, commas\r\n"
    b"\r\n"
)


def test_section_2_1_field_values() -> None:
    request = parse_raw_request(FIELDS_EXAMPLE)
    register_structured_field("example-dict", "dictionary")
    assert _values(
        request,
        "host",
        "date",
        "x-ows-header",
        "x-obs-fold-header",
        "cache-control",
        "example-dict",
        '"example-dict";sf',
        '"example-dict";key="a"',
        '"example-dict";key="b"',
        '"example-dict";key="c"',
        '"example-dict";key="d"',
        '"example-header";bs',
    ) == [
        '"host": www.example.com',
        '"date": Tue, 20 Apr 2021 02:07:56 GMT',
        '"x-ows-header": Leading and trailing whitespace.',
        '"x-obs-fold-header": Obsolete line folding.',
        '"cache-control": max-age=60, must-revalidate',
        '"example-dict": a=1,    b=2;x=1;y=2,   c=(a   b   c), d',
        '"example-dict";sf: a=1, b=2;x=1;y=2, c=(a b c), d',
        '"example-dict";key="a": 1',
        '"example-dict";key="b": 2;x=1;y=2',
        '"example-dict";key="c": (a b c)',
        '"example-dict";key="d": ?1',
        '"example-header";bs: :dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:',
    ]


@pytest.mark.parametrize(
    "identifier",
    [
        "x-missing",
        '"example-dict";key="zz"',
        '"@query-param";name="nope"',
        "@status",
        "@unknown",
        '"example-header";bs;sf',
        '"date";req',
    ],
)
def test_unresolvable_components_are_errors(identifier: str) -> None:
    with pytest.raises(ComponentError):
        build_signature_base(parse_raw_request(FIELDS_EXAMPLE), [component(identifier)], {})


def test_a_component_covered_twice_is_rejected() -> None:
    with pytest.raises(ComponentError, match="twice"):
        build_signature_base(_test_request(), [Item("@path"), Item("@path")], {})


def test_tampering_with_a_covered_component_breaks_the_signature() -> None:
    raw = v.TEST_REQUEST.replace(b"Host: example.com", b"Host: evil.example")
    request = parse_raw_request(raw).with_headers(
        [("Signature-Input", v.B26_SIGNATURE_INPUT), ("Signature", v.B26_SIGNATURE)]
    )
    public = load_public_key(v.TEST_KEY_ED25519_PUBLIC)
    with pytest.raises(SignatureError) as info:
        verify_request(request, lambda parsed: public)
    assert info.value.code == "SIGNATURE_INVALID"


def test_several_signatures_are_each_verified() -> None:
    key = load_private_key(v.TEST_KEY_ED25519_PRIVATE)
    signed = sign_request(_test_request(), key=key, key_id="a", covered=["@method"], label="one")
    signed = sign_request(signed, key=key, key_id="b", covered=["@path"], label="two")
    assert [s.label for s in parse_signatures(signed)] == ["one", "two"]
    assert len(verify_request(signed, lambda parsed: key.public_key())) == 2
