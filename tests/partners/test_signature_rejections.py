"""Every way the hub refuses a partner request: HTTP 401/403, a stable code, nothing written."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from network.clock import utcnow
from partners.keys import create_key, revoke_key
from partners.keys_schema import partner_api_keys, partner_nonces
from tests.partners import rfc9421_vectors as v
from tests.partners.conftest import (
    Hub,
    error_code,
    gql_body,
    operation,
    post_signed,
    signed_headers,
)

AWARD = operation("AwardPoints")
INFO = gql_body(operation("PartnerInfo"))


def _award_body(hub: Hub) -> bytes:
    member = hub.enrol()
    return gql_body(
        AWARD, {"input": {"cardNumber": member.card_number, "amount": 500, "currency": "EUR"}}
    )


def _nonces(hub: Hub) -> int:
    return hub.db.read(
        lambda c: c.execute(select(func.count()).select_from(partner_nonces)).scalar_one()
    )


def _assert_refused(hub: Hub, response, status: int, code: str, before) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert error_code(response) == code, response.text
    assert response.json()["errors"][0]["message"]
    assert hub.ledger_counts() == before
    assert _nonces(hub) == 0


def test_a_good_signature_is_accepted(hub: Hub) -> None:
    body = _award_body(hub)
    response = post_signed(hub, body, idempotency_key="ok-1")
    assert response.status_code == 200
    assert response.json()["data"]["awardPoints"]["transaction"]["points"] == 50
    assert _nonces(hub) == 1


def test_unsigned_partner_request(hub: Hub) -> None:
    before = hub.ledger_counts()
    response = hub.http.post(
        "/graphql", content=_award_body(hub), headers={"Content-Type": "application/json"}
    )
    _assert_refused(hub, response, 401, "SIGNATURE_MISSING", before)


def test_unsigned_request_for_a_partner_statement(hub: Hub) -> None:
    """Settlement's partner query is a partner field too: unsigned, it is a 401, not a 403."""
    before = hub.ledger_counts()
    body = b'{"query": "{ partnerSettlementStatement(period: \\"2026-10\\") { net } }"}'
    response = hub.http.post("/graphql", content=body,
                             headers={"Content-Type": "application/json"})
    _assert_refused(hub, response, 401, "SIGNATURE_MISSING", before)


def test_signature_input_without_signature(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    signed = signed_headers(hub, body, idempotency_key="k")
    headers = {k: val for k, val in signed.items() if k.lower() != "signature"}
    response = hub.http.post("/graphql", content=body, headers=headers)
    _assert_refused(hub, response, 401, "SIGNATURE_MISSING", before)


def test_signature_by_another_key_or_over_another_path(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    wrong_key = post_signed(hub, body, idempotency_key="k2", key_pem=v.TEST_KEY_ED25519_PRIVATE)
    _assert_refused(hub, wrong_key, 401, "SIGNATURE_INVALID", before)
    headers = signed_headers(hub, body, idempotency_key="k3", path="/other")
    response = hub.http.post("/graphql", content=body, headers=headers)
    _assert_refused(hub, response, 401, "SIGNATURE_INVALID", before)


def test_an_unsigned_query_string_is_refused(hub: Hub) -> None:
    before = hub.ledger_counts()
    headers = signed_headers(
        hub, INFO, covered=["@method", "@authority", "@path", "content-type", "content-digest"]
    )
    response = hub.http.post("/graphql?debug=1", content=INFO, headers=headers)
    _assert_refused(hub, response, 401, "COMPONENTS_MISSING", before)


def test_idempotency_key_swapped_after_signing(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    headers = signed_headers(hub, gql_body("{ partner { code } }"), idempotency_key="a")
    headers["Idempotency-Key"] = "b"
    response = hub.http.post("/graphql", content=gql_body("{ partner { code } }"), headers=headers)
    _assert_refused(hub, response, 401, "SIGNATURE_INVALID", before)
    assert body


def test_expired_and_future_created(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    now = int(time.time())  # margins, not edges: the hub reads its clock a moment later
    for created in (now - 360, now + 360):
        response = post_signed(hub, body, idempotency_key="k", created=created)
        _assert_refused(hub, response, 401, "SIGNATURE_EXPIRED", before)


def test_unknown_key(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    response = post_signed(hub, body, idempotency_key="k", key_id="pk_nobody")
    _assert_refused(hub, response, 401, "UNKNOWN_KEY", before)


def test_revoked_key_is_refused_on_the_next_request(hub: Hub) -> None:
    body = _award_body(hub)
    assert post_signed(hub, INFO).status_code == 200
    hub.db.write(revoke_key, hub.partners["cafe"].key_id, utcnow())
    before = hub.ledger_counts()
    nonces_before = _nonces(hub)
    response = post_signed(hub, body, idempotency_key="k")
    assert response.status_code == 401 and error_code(response) == "KEY_REVOKED"
    assert hub.ledger_counts() == before and _nonces(hub) == nonces_before


def test_expired_key(hub: Hub) -> None:
    body = _award_body(hub)
    hub.db.write(
        lambda c: c.execute(
            update(partner_api_keys)
            .where(partner_api_keys.c.key_id == hub.partners["cafe"].key_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    )
    before = hub.ledger_counts()
    response = post_signed(hub, body, idempotency_key="k")
    _assert_refused(hub, response, 401, "KEY_EXPIRED", before)


def test_replayed_nonce(hub: Hub) -> None:
    body = _award_body(hub)
    first = post_signed(hub, body, idempotency_key="k", nonce="nonce-123456")
    assert first.status_code == 200
    before = hub.ledger_counts()
    again = post_signed(hub, body, idempotency_key="k", nonce="nonce-123456")
    assert again.status_code == 401 and error_code(again) == "NONCE_REPLAYED"
    assert hub.ledger_counts() == before


def test_replay_is_caught_by_another_server_process(hub: Hub) -> None:
    """Two app instances share nothing but the database, like two uvicorn workers."""
    from infra.app import create_app
    from tests.partners.conftest import BASE_URL, TestClient

    body = _award_body(hub)
    headers = signed_headers(hub, body, idempotency_key="k")
    assert hub.http.post("/graphql", content=body, headers=headers).status_code == 200
    with TestClient(create_app(hub.settings, hub.db), base_url=BASE_URL) as other:
        replay = other.post("/graphql", content=body, headers=headers)
    assert replay.status_code == 401 and error_code(replay) == "NONCE_REPLAYED"


def test_digest_mismatch(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    tampered = body.replace(b'"amount": 500', b'"amount": 50000')
    assert tampered != body
    response = post_signed(hub, body, idempotency_key="k", send_body=tampered)
    _assert_refused(hub, response, 401, "DIGEST_MISMATCH", before)


@pytest.mark.parametrize(
    "dropped",
    ["@method", "@authority", "@path", "content-type", "content-digest", "idempotency-key"],
)
def test_components_missing(hub: Hub, dropped: str) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    covered = [
        c
        for c in [
            "@method",
            "@authority",
            "@path",
            "content-type",
            "content-digest",
            "idempotency-key",
        ]
        if c != dropped
    ]
    response = post_signed(hub, body, idempotency_key="k", covered=covered)
    _assert_refused(hub, response, 401, "COMPONENTS_MISSING", before)
    assert f'"{dropped}"' in response.json()["errors"][0]["message"]


def test_missing_nonce_and_wrong_alg(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    response = post_signed(hub, body, idempotency_key="k", nonce="")
    _assert_refused(hub, response, 401, "SIGNATURE_PARAMS_MISSING", before)
    headers = signed_headers(hub, body, idempotency_key="k")
    headers["Signature-Input"] = headers["Signature-Input"].replace('"ed25519"', '"rsa-pss-sha512"')
    response = hub.http.post("/graphql", content=body, headers=headers)
    _assert_refused(hub, response, 401, "ALGORITHM_UNSUPPORTED", before)


def test_malformed_signature_headers(hub: Hub) -> None:
    before = hub.ledger_counts()
    response = hub.http.post(
        "/graphql",
        content=INFO,
        headers={
            "Content-Type": "application/json",
            "Signature-Input": "sig1=(((",
            "Signature": "sig1=:AA==:",
        },
    )
    _assert_refused(hub, response, 401, "SIGNATURE_MALFORMED", before)


def test_scope_missing_is_403(hub: Hub) -> None:
    key, pem = hub.db.write(
        lambda c: create_key(c, party_id=hub.partners["cafe"].party_id, now=utcnow(), scopes="read")
    )
    body = _award_body(hub)
    before = hub.ledger_counts()
    response = post_signed(hub, body, idempotency_key="k", key_pem=pem, key_id=key.key_id)
    _assert_refused(hub, response, 403, "SCOPE_MISSING", before)
    assert "earn" in response.json()["errors"][0]["message"]
    assert post_signed(hub, INFO, key_pem=pem, key_id=key.key_id).status_code == 200


def test_a_key_expired_after_its_first_use_is_refused(hub: Hub) -> None:
    assert post_signed(hub, INFO).status_code == 200  # the hub now remembers the key
    hub.db.write(
        lambda c: c.execute(
            update(partner_api_keys)
            .where(partner_api_keys.c.key_id == hub.partners["cafe"].key_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    )
    body = _award_body(hub)
    before, nonces_before = hub.ledger_counts(), _nonces(hub)
    response = post_signed(hub, body, idempotency_key="k")
    assert response.status_code == 401 and error_code(response) == "KEY_EXPIRED"
    assert hub.ledger_counts() == before and _nonces(hub) == nonces_before


def test_a_revoked_key_tells_its_status_only_to_a_valid_signature(hub: Hub) -> None:
    """The status is checked last, so someone without the private key cannot probe it."""
    body = _award_body(hub)
    hub.db.write(revoke_key, hub.partners["cafe"].key_id, utcnow())
    forged = post_signed(hub, body, idempotency_key="k", key_pem=v.TEST_KEY_ED25519_PRIVATE)
    assert forged.status_code == 401 and error_code(forged) == "SIGNATURE_INVALID"
    genuine = post_signed(hub, body, idempotency_key="k")
    assert genuine.status_code == 401 and error_code(genuine) == "KEY_REVOKED"


def test_a_signature_without_keyid_lacks_a_parameter(hub: Hub) -> None:
    body = _award_body(hub)
    before = hub.ledger_counts()
    headers = signed_headers(hub, body, idempotency_key="k")
    headers["Signature-Input"] = re.sub(r';keyid="[^"]*"', "", headers["Signature-Input"])
    assert "keyid" not in headers["Signature-Input"]
    response = hub.http.post("/graphql", content=body, headers=headers)
    _assert_refused(hub, response, 401, "SIGNATURE_PARAMS_MISSING", before)
    assert "keyid" in response.json()["errors"][0]["message"]


def test_a_short_nonce_is_malformed(hub: Hub) -> None:
    """As the README table says: a nonce of fewer than 8 characters is SIGNATURE_MALFORMED."""
    body = _award_body(hub)
    before = hub.ledger_counts()
    response = post_signed(hub, body, idempotency_key="k", nonce="1234567")
    _assert_refused(hub, response, 401, "SIGNATURE_MALFORMED", before)
    assert "nonce" in response.json()["errors"][0]["message"]


def test_a_key_expires_at_its_instant_not_at_the_next_whole_second(hub: Hub) -> None:
    from infra.app import create_app
    from partners.authenticator import PartnerAuthenticator
    from tests.partners.conftest import BASE_URL, TestClient

    second = int(time.time())
    hub.db.write(
        lambda c: c.execute(
            update(partner_api_keys)
            .where(partner_api_keys.c.key_id == hub.partners["cafe"].key_id)
            .values(expires_at=datetime.fromtimestamp(second + 0.3, UTC))
        )
    )
    now = [second + 0.2]
    app = create_app(hub.settings, hub.db,
                     authenticators=[PartnerAuthenticator(hub.db, clock=lambda: now[0])])
    with TestClient(app, base_url=BASE_URL) as http:
        before_expiry = http.post("/graphql", content=INFO,
                                  headers=signed_headers(hub, INFO, created=second))
        assert before_expiry.status_code == 200, before_expiry.text
        now[0] = second + 0.7  # the same whole second, but after the key's expiry
        after_expiry = http.post("/graphql", content=INFO,
                                 headers=signed_headers(hub, INFO, created=second))
    assert after_expiry.status_code == 401 and error_code(after_expiry) == "KEY_EXPIRED"
    assert _nonces(hub) == 1  # the refused request claimed no nonce


def test_a_signature_for_another_authority_says_what_the_hub_saw(hub: Hub) -> None:
    """The commonest integration mistake: signing for one host or port and sending to another."""
    before = hub.ledger_counts()
    headers = signed_headers(hub, INFO)  # signed for http://hub.test/graphql
    response = hub.http.post("http://127.0.0.1:8000/graphql?x=1", content=INFO, headers=headers)
    _assert_refused(hub, response, 401, "SIGNATURE_INVALID", before)
    message = response.json()["errors"][0]["message"]
    assert ("the hub saw @authority '127.0.0.1:8000', @path '/graphql', @query 'x=1', "
            "content-type 'application/json'") in message
