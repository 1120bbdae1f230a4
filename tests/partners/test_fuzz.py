"""Hypothesis throws arbitrary inputs at every documented partner operation, signed correctly:
the hub must never answer 500, and a request it rejects must write nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.partners.conftest import Hub, gql_body, operation, post_signed

OPERATIONS = [
    "AwardPoints",
    "AwardPointsBatch",
    "RedeemPoints",
    "AuthorizeHold",
    "CaptureHold",
    "VoidHold",
    "ReverseEarn",
    "ReverseRedemption",
    "EnrolMember",
    "LookUpMember",
    "Transactions",
]
FIELDS = [
    "cardNumber",
    "memberId",
    "amount",
    "currency",
    "points",
    "reference",
    "holdId",
    "transactionId",
    "expiresAt",
    "phone",
    "email",
    "displayName",
    "locale",
    "lines",
    "first",
    "after",
    "kinds",
    "bookedFrom",
    "id",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "EUR",
            "USD",
            "eur",
            "",
            "7000000000000000",
            "2026-13-45T00:00:00",
            "2030-01-01T00:00:00+00:00",
            "UGFydG5lckhvbGQ6MQ==",
            "UGFydG5lclRyYW5zYWN0aW9uOjE=",
            "UGFydG5lck1lbWJlcjox",
            "EARN",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=8,
)


def _rejected(payload: Any) -> bool:
    """True when the answer says no: GraphQL errors or userErrors anywhere."""
    if isinstance(payload, dict):
        if payload.get("userErrors"):
            return True
        return any(_rejected(v) for v in payload.values())
    if isinstance(payload, list):
        return any(_rejected(v) for v in payload)
    return False


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(OPERATIONS),
    fields=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    as_input=st.booleans(),
    key=st.one_of(
        st.none(),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=30),
    ),
)
def test_no_500_and_no_write_on_rejection(
    hub: Hub, name: str, fields: dict[str, Any], as_input: bool, key: str | None
) -> None:
    if not hasattr(hub, "card"):
        hub.card = hub.enrol().card_number  # type: ignore[attr-defined]
    variables = {"input": fields} if as_input else fields
    if "cardNumber" in fields and fields["cardNumber"] == "7000000000000000":
        fields["cardNumber"] = hub.card  # type: ignore[attr-defined]
    before = hub.ledger_counts()
    response = post_signed(hub, gql_body(operation(name), variables), idempotency_key=key)
    assert response.status_code in (200, 400, 401, 403, 409), response.text
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
    assert "INTERNAL_ERROR" not in codes, body
    if response.status_code != 200 or body.get("errors") or _rejected(body.get("data")):
        if name != "AwardPointsBatch":  # a batch books its good lines and names the bad ones
            assert hub.ledger_counts() == before, body


HEADERS = ["Signature-Input", "Signature", "Content-Digest", "Idempotency-Key", "Content-Type"]


def _same_field_value(header: str, changed: str, original: str) -> bool:
    """A change is a no-op when the field still means the same. Signature and Content-Digest
    carry base64 byte sequences whose last character before the padding has spare bits: RFC 8941
    section 4.2.7 says parsers SHOULD NOT fail on non-zero pad bits, so `...Q==` and `...R==`
    decode to the same signature and the request is rightly accepted."""
    from partners.signatures.structured_fields import StructuredFieldError, parse_dictionary

    if changed == original:
        return True
    if header not in ("Signature", "Content-Digest"):
        return False
    try:
        return parse_dictionary(changed) == parse_dictionary(original)
    except StructuredFieldError:
        return False


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.sampled_from(HEADERS),
    position=st.integers(min_value=0, max_value=400),
    replacement=st.characters(min_codepoint=32, max_codepoint=126),
)
def test_corrupted_signature_headers_are_refused_without_writes(
    hub: Hub, header: str, position: int, replacement: str
) -> None:
    """Change one character of one signed header: the hub answers 401 (or 200 only when the
    change was a no-op, 415 when Content-Type stops saying JSON), never 500, and a refusal leaves
    the ledger and nonce store alone."""
    from sqlalchemy import func, select

    from partners.keys_schema import partner_nonces
    from tests.partners.conftest import signed_headers

    if not hasattr(hub, "card"):
        hub.card = hub.enrol().card_number  # type: ignore[attr-defined]
    body = gql_body(
        operation("AwardPoints"),
        {"input": {"cardNumber": hub.card, "amount": 1000, "currency": "EUR"}},
    )  # type: ignore[attr-defined]
    headers = signed_headers(hub, body, idempotency_key="fuzz-key")
    value = headers[header]
    index = position % len(value)
    headers[header] = value[:index] + replacement + value[index + 1 :]

    def nonces() -> int:
        return hub.db.read(
            lambda c: c.execute(select(func.count()).select_from(partner_nonces)).scalar_one()
        )

    before, nonces_before = hub.ledger_counts(), nonces()
    response = hub.http.post("/graphql", content=body, headers=headers)
    if _same_field_value(header, headers[header], value):
        assert response.status_code == 200, response.text
        return
    # A Content-Type that no longer says JSON is refused before the signature is looked at.
    refusals = (401, 403, 415) if header == "Content-Type" else (401, 403)
    assert response.status_code in refusals, response.text
    assert response.json()["errors"][0]["extensions"]["code"]
    assert hub.ledger_counts() == before and nonces() == nonces_before
