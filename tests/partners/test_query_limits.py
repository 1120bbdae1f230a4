"""Depth, alias, cost and body-size limits, and introspection off in production, as a partner
meets them over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import get_introspection_query, parse, validate

import infra.document_cache as document_cache_module
import infra.query_limits as query_limits
import partners.root_fields as root_fields_module
from infra.app import create_app
from infra.query_limits import Limits, limit_rule
from infra.schema import schema
from network.config import Settings
from tests.partners.conftest import (
    BASE_URL,
    Hub,
    TestClient,
    error_code,
    gql_body,
    operation,
    post_signed,
)


def _codes(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.get("extensions", {}).get("code") for e in response.json()["errors"]}


def test_too_deep(hub: Hub) -> None:
    query = "{ " + "partner { " * 13 + "code" + " }" * 13 + " }"
    response = post_signed(hub, gql_body(query))
    assert response.status_code == 400
    assert "QUERY_TOO_DEEP" in _codes(response)


def test_too_many_aliases(hub: Hub) -> None:
    query = "{ " + " ".join(f"a{i}: partner {{ code }}" for i in range(31)) + " }"
    response = post_signed(hub, gql_body(query))
    assert response.status_code == 400 and _codes(response) == {"TOO_MANY_ALIASES"}
    ok = "{ " + " ".join(f"a{i}: partner {{ code }}" for i in range(30)) + " }"
    assert post_signed(hub, gql_body(ok)).status_code == 200


def test_too_costly(hub: Hub) -> None:
    selection = (
        "partner { transactions(first: 100) { edges { node "
        "{ id kind points reference bookedAt memberId reverses holdId } } } }"
    )
    query = "{ " + " ".join(f"t{i}: {selection}" for i in range(25)) + " }"
    response = post_signed(hub, gql_body(query))
    assert response.status_code == 400 and _codes(response) == {"QUERY_TOO_COSTLY"}


def test_body_too_large(hub: Hub) -> None:
    body = gql_body("{ partner { code } }", {"pad": "x" * (2 * 1024 * 1024)})
    response = post_signed(hub, body)
    assert response.status_code == 413 and error_code(response) == "BODY_TOO_LARGE"


def test_introspection_is_off_in_production(hub: Hub) -> None:
    query = gql_body("{ __schema { queryType { name } } }")
    assert (
        hub.http.post(
            "/graphql", content=query, headers={"Content-Type": "application/json"}
        ).status_code
        == 200
    )
    production = Settings(database_url=hub.db.url, env="production", secret_key="prod-secret")
    with TestClient(create_app(production, hub.db), base_url=BASE_URL) as client:
        response = client.post(
            "/graphql", content=query, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert "introspection" in response.json()["errors"][0]["message"].lower()


# --- Huge documents are refused before their work is done (issue 15) -------------------------
# A 2 MB document of 400,000 fields cost seconds of CPU to parse before it was refused, signed or
# not. Now: a small body limit before authentication, the signature verified before the document
# is parsed at all, and parsing stopped at the token limit.
OPERATIONS_ROOT = Path(__file__).resolve().parents[2] / "graphql" / "operations"


def _fields(count: int) -> str:
    return "query Big {" + " code" * count + " }"


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every query text parsed from now on (the authenticator's and the cache's)."""
    lengths: list[int] = []
    for module in (root_fields_module, document_cache_module):
        real = module.parse  # type: ignore[attr-defined]

        def spy(source: str, *args: Any, real: Any = real, **kwargs: Any) -> Any:
            lengths.append(len(source))
            return real(source, *args, **kwargs)

        monkeypatch.setattr(module, "parse", spy)
    return lengths


def test_the_limits_agree() -> None:
    assert root_fields_module.MAX_TOKENS == Limits().max_tokens == document_cache_module.MAX_TOKENS


def test_an_unsigned_body_over_64_kib_is_refused_unread(hub: Hub,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _parses(monkeypatch)
    limit = Limits().max_unsigned_body_bytes
    fits = gql_body("{ charities { code } }", {"pad": "x" * (limit - 100)})
    assert len(fits) <= limit
    assert hub.http.post("/graphql", content=fits,
                         headers={"Content-Type": "application/json"}).json() == {
        "data": {"charities": []}}
    for body in (gql_body(_fields(400_000)), fits + b" " * 100):
        assert len(body) > limit
        response = hub.http.post("/graphql", content=body,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and error_code(response) == "BODY_TOO_LARGE"
        assert "without a partner signature" in response.json()["errors"][0]["message"]
    assert all(length < 100 for length in parsed)  # only the small query that fits


def test_a_forged_signature_does_not_buy_a_parse_of_a_big_document(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _parses(monkeypatch)
    body = gql_body(_fields(400_000))
    assert len(body) > 1024 * 1024
    other_key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    forged = post_signed(hub, body, key_pem=other_key)
    assert forged.status_code == 401 and error_code(forged) == "SIGNATURE_INVALID"
    unknown = post_signed(hub, body, key_id="no-such-key")
    assert unknown.status_code == 401 and error_code(unknown) == "UNKNOWN_KEY"
    assert parsed == []


def test_a_signed_document_over_the_token_limit_stops_parsing_there(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _parses(monkeypatch)
    cached = len(hub.http.app.state.documents)  # type: ignore[attr-defined]  # the persisted ones
    response = post_signed(hub, gql_body(_fields(400_000)))
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_TOKENS"}
    assert f"more than {Limits().max_tokens} tokens" in error["message"]
    assert len(parsed) == 2  # the authenticator's scope check and the cache, each cut short
    assert len(hub.http.app.state.documents) == cached  # type: ignore[attr-defined]
    # The same without a signature, under the unsigned body limit: refused the same way.
    small = gql_body("{" + " charities { code }" * 500 + " }")  # 2,002 tokens
    assert len(small) < Limits().max_unsigned_body_bytes
    unsigned = hub.http.post("/graphql", content=small,
                             headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 400 and error_code(unsigned) == "TOO_MANY_TOKENS"


def test_a_signed_batch_of_1000_lines_still_fits(hub: Hub) -> None:
    member = hub.enrol()
    lines = [{"cardNumber": member.card_number, "amount": 100, "currency": "EUR",
              "reference": f"receipt-{i:06d}"} for i in range(1000)]
    body = gql_body(operation("AwardPointsBatch"), {"input": {"lines": lines}})
    assert len(body) > Limits().max_unsigned_body_bytes  # over the unsigned limit
    response = post_signed(hub, body, idempotency_key="big-batch")
    assert response.status_code == 200
    assert response.json()["data"]["awardPointsBatch"]["accepted"] == 1000


def _limit_errors(query: str, **limits: int) -> list[str]:
    document = parse(query)
    return [e.message for e in validate(schema.graphql_schema, document,
                                        [limit_rule(Limits(**limits))])]


def test_fragments_count_where_they_are_spread() -> None:
    query = """query Q { ...A ...A }
        fragment A on Query { a: partner { ...B } }
        fragment B on Partner { code x: code }"""
    # Each spread of A adds its alias and B's: 4 aliases; depth 2; cost 2 x (1 + 2).
    assert _limit_errors(query, max_aliases=3, max_depth=1, max_cost=5) == [
        "query depth is 2, the limit is 1", "query aliases is 4, the limit is 3",
        "query cost is 6, the limit is 5"]
    assert _limit_errors(query, max_aliases=4, max_depth=2, max_cost=6) == []


def test_a_fragment_spread_many_times_is_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sixty fragments each spreading the next twice: 2^60 spreads, walked 61 times."""
    levels = 60
    query = "query Q { ...F0 }\n" + "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    ) + f"fragment F{levels} on Query {{ __typename }}\n"
    walks = []
    real = query_limits._measure

    def counting(*args: Any) -> Any:
        walks.append(1)
        return real(*args)

    monkeypatch.setattr(query_limits, "_measure", counting)
    assert _limit_errors(query) == [f"query cost is {2 ** levels}, the limit is 20000"]
    assert len(walks) == levels + 2  # the operation and each fragment, once


def test_too_many_fields_is_refused_before_the_spec_rules_run(hub: Hub) -> None:
    limit = Limits().max_fields
    ok = "{" + " __typename" * limit + " }"
    assert hub.http.post("/graphql", json={"query": ok}).status_code == 200
    # One more, and a field nobody has: only the hub's limit speaks, the spec's rules never ran.
    over = "{" + " __typename" * limit + " nosuchfield }"
    response = hub.http.post("/graphql", json={"query": over})
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "message": f"the document has {limit + 1} fields, the limit is {limit}",
        "extensions": {"code": "TOO_MANY_FIELDS"}}]
    # Within the limits, the spec's rules still run.
    typo = hub.http.post("/graphql", json={"query": "{ nosuchfield }"})
    assert error_code(typo) == "GRAPHQL_VALIDATION_FAILED"


def test_every_documented_operation_is_within_the_limits() -> None:
    for path in sorted(OPERATIONS_ROOT.rglob("*.graphql")):
        assert _limit_errors(path.read_text()) == [], path.name
        assert parse(path.read_text()).token_count <= Limits().max_tokens  # type: ignore[attr-defined]


def test_the_endpoint_never_runs_a_document_the_authenticator_cannot_read() -> None:
    """The scope check sees no root fields past root_fields' token limit; a larger token limit
    for the endpoint would let such a document run without it."""
    with pytest.raises(ValueError, match="max_tokens is at most"):
        Limits(max_tokens=root_fields_module.MAX_TOKENS + 1)


def test_the_explorers_introspection_query_passes_in_development(hub: Hub) -> None:
    """GraphiQL's introspection (depth 15) was refused by the depth limit meant for data."""
    query = get_introspection_query(descriptions=True, specified_by_url=True,
                                    directive_is_repeatable=True, schema_description=True,
                                    input_value_deprecation=True)
    response = hub.http.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    # Data queries keep their depth limit, also beside an introspection field.
    deep = "{ __typename " + "partner { " * 13 + "code" + " }" * 13 + " }"
    assert "QUERY_TOO_DEEP" in _codes(post_signed(hub, gql_body(deep)))
