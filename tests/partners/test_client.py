"""The partner SDK: what it signs, and that retries reuse the idempotency key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from partners.client import PartnerAPIError, PartnerClient, is_mutation
from partners.signatures import (
    HttpRequest,
    load_public_key,
    parse_signatures,
    verify_content_digest,
    verify_request,
)
from tests.partners import rfc9421_vectors as v

PUBLIC = load_public_key(v.TEST_KEY_ED25519_PUBLIC)


def _as_signature_request(request: httpx.Request) -> HttpRequest:
    return HttpRequest(
        request.method, str(request.url), list(request.headers.multi_items()), request.content
    )


def _client(handler) -> PartnerClient:  # type: ignore[no-untyped-def]
    return PartnerClient(
        "https://hub.test",
        "pk_test",
        v.TEST_KEY_ED25519_PRIVATE,
        transport=httpx.MockTransport(handler),
        backoff=0,
    )


def test_requests_are_signed_over_the_required_components() -> None:
    seen: list[HttpRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_as_signature_request(request))
        return httpx.Response(200, json={"data": {"ok": True}})

    with _client(handler) as client:
        assert client.execute("mutation { x }") == {"data": {"ok": True}}
    [request] = seen
    [verified] = verify_request(request, lambda parsed: PUBLIC)
    parsed = verified.parsed
    assert parsed.covered_identifiers == [
        '"@method"',
        '"@authority"',
        '"@path"',
        '"@query"',
        '"content-type"',
        '"content-digest"',
        '"idempotency-key"',
    ]
    assert parsed.params["alg"] == "ed25519" and parsed.key_id == "pk_test"
    assert parsed.nonce and parsed.created
    assert verify_content_digest(request.header("content-digest"), request.body)
    assert json.loads(request.body)["query"] == "mutation { x }"


def test_queries_carry_no_idempotency_key() -> None:
    seen: list[HttpRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_as_signature_request(request))
        return httpx.Response(200, json={"data": {}})

    with _client(handler) as client:
        client.execute("query Q { x }")
    assert seen[0].header("idempotency-key") is None
    assert '"idempotency-key"' not in parse_signatures(seen[0])[0].covered_identifiers


def test_retries_reuse_the_idempotency_key_with_fresh_nonces() -> None:
    attempts: list[HttpRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(_as_signature_request(request))
        if len(attempts) == 1:
            raise httpx.ConnectError("boom", request=request)
        if len(attempts) == 2:
            return httpx.Response(
                409,
                json={
                    "errors": [
                        {"message": "busy", "extensions": {"code": "IDEMPOTENCY_IN_PROGRESS"}}
                    ]
                },
            )
        return httpx.Response(200, json={"data": {"done": 1}})

    with _client(handler) as client:
        assert client.execute("mutation M { x }", idempotency_key="till-42")["data"] == {"done": 1}
    assert [a.header("idempotency-key") for a in attempts] == ["till-42"] * 3
    assert len({parse_signatures(a)[0].nonce for a in attempts}) == 3
    assert len({a.body for a in attempts}) == 1


def test_http_errors_surface_the_hub_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401,
            json={"errors": [{"message": "no such key", "extensions": {"code": "UNKNOWN_KEY"}}]},
        )

    with _client(handler) as client, pytest.raises(PartnerAPIError) as info:
        client.execute("{ x }")
    assert (info.value.status, info.value.code) == (401, "UNKNOWN_KEY")


def test_gives_up_after_max_attempts() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("slow", request=request)

    with _client(handler) as client, pytest.raises(httpx.ReadTimeout):
        client.execute("mutation { x }")
    assert calls == 4


def test_is_mutation() -> None:
    assert is_mutation("mutation A { x }")
    assert not is_mutation("{ x }")
    assert is_mutation("query Q { x } mutation M { y }", "M")
    assert not is_mutation("not graphql")


def test_base_url_must_be_the_hubs_origin() -> None:
    for url in ("http://127.0.0.1:8000/graphql", "https://hub.test/graphql/", "hub.test",
                "https://hub.test?x=1"):
        # Was: accepted, then every request got "HTTP 404 HTTP_ERROR: Not Found".
        with pytest.raises(ValueError, match="base_url is the hub's origin, like "
                                             "https://hub.example, without a path; the client "
                                             "adds /graphql itself"):
            PartnerClient(url, "pk_test", v.TEST_KEY_ED25519_PRIVATE)
    for url in ("https://hub.test", "https://hub.test/", "http://127.0.0.1:8000"):
        with PartnerClient(url, "pk_test", v.TEST_KEY_ED25519_PRIVATE) as client:
            assert client.url == url.rstrip("/") + "/graphql"


def test_an_idempotency_key_must_be_printable_ascii() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": {}})

    with _client(handler) as client:
        for key in ("reçu-1", "tab\tkey", "   ", "k" * 193):
            # Was: an internal ComponentError from the signer for "reçu-1".
            with pytest.raises(ValueError, match="an Idempotency-Key is 1 to 192 printable "
                                                 "ASCII characters"):
                client.execute("mutation { x }", idempotency_key=key)
        assert sent == []  # refused before anything was signed or sent
        client.execute("mutation { x }", idempotency_key="k" * 192)
    assert sent[0].headers["idempotency-key"] == "k" * 192


def test_the_header_rule_leaves_room_for_batch_line_suffixes() -> None:
    """A batch line's key is the header's plus "#<index>" (up to "#999"), which the ledger must
    still accept; and the SDK learns the rule without importing the hub's GraphQL layer."""
    import subprocess
    import sys

    from network.idempotency import MAX_KEY_LENGTH
    from partners import idempotency_key

    assert idempotency_key.MAX_LENGTH + len("#999") <= MAX_KEY_LENGTH
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, partners.client; print('graphene' in sys.modules)"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "False"


def _unavailable(retry_after: str | None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(503, headers=headers, json={"errors": [
        {"message": "the database is unavailable",
         "extensions": {"code": "DATABASE_UNAVAILABLE"}}]})


def _client_sleeping_into(slept: list[float], handler, **kwargs):  # type: ignore[no-untyped-def]
    return PartnerClient("https://hub.test", "pk_test", v.TEST_KEY_ED25519_PRIVATE,
                         transport=httpx.MockTransport(handler), backoff=0.1,
                         sleep=slept.append, **kwargs)


def test_a_503_is_retried_after_the_hubs_retry_after_with_the_same_key() -> None:
    attempts: list[HttpRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(_as_signature_request(request))
        if len(attempts) == 1:
            return _unavailable("2")
        if len(attempts) == 2:  # an HTTP date about 5 s ahead (whole seconds: 4 to 5 s)
            when = datetime.now(UTC) + timedelta(seconds=5)
            return _unavailable(format_datetime(when, usegmt=True))
        if len(attempts) == 3:
            return _unavailable(None)  # no Retry-After: the client's own backoff
        return httpx.Response(200, json={"data": {"done": 1}})

    slept: list[float] = []
    with _client_sleeping_into(slept, handler) as client:
        assert client.execute("mutation M { x }", idempotency_key="till-7")["data"] == {"done": 1}
    assert [a.header("idempotency-key") for a in attempts] == ["till-7"] * 4
    assert len({parse_signatures(a)[0].nonce for a in attempts}) == 4
    assert slept[0] == 2.0
    assert 3.0 < slept[1] <= 5.0
    assert slept[2] == 0.4  # backoff 0.1 doubled twice


def test_a_503_is_retried_a_bounded_number_of_times() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _unavailable("1")

    slept: list[float] = []
    with _client_sleeping_into(slept, handler, max_attempts=3) as client, \
            pytest.raises(PartnerAPIError) as info:
        client.execute("mutation { x }")
    assert (info.value.status, info.value.code, calls) == (503, "DATABASE_UNAVAILABLE", 3)
    assert slept == [1.0, 1.0]


def test_a_retry_after_beyond_the_limit_is_the_callers_decision() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _unavailable("600")

    slept: list[float] = []
    with _client_sleeping_into(slept, handler, max_retry_after=30) as client, \
            pytest.raises(PartnerAPIError) as info:
        client.execute("{ x }")
    assert (info.value.status, calls, slept) == (503, 1, [])


def test_operation_returns_a_documented_operation_and_names_the_others() -> None:
    from pathlib import Path

    from partners.client import operation, operation_names

    folder = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "partner"
    assert operation_names() == sorted(p.stem for p in folder.glob("*.graphql"))
    assert "AwardPoints" in operation_names() and "RedeemPoints" in operation_names()
    assert operation("RedeemPoints") == (folder / "RedeemPoints.graphql").read_text()
    with pytest.raises(ValueError, match="no documented operation 'Award'; there are "
                                         "AuthorizeHold, AwardPoints, "):
        operation("Award")
    with pytest.raises(ValueError, match="no documented operation '../schema'"):
        operation("../schema")
