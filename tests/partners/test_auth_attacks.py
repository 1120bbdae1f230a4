"""Attacks on partner authentication by someone holding one partner's key, or none.

Each test pins a defect found by an audit (tests/partners/test_signature_rejections.py holds
the plain rejections): the hub must act on exactly what the signature covers.
"""

from __future__ import annotations

from sqlalchemy import select

from network.db.schema import idempotency_keys
from partners.signatures import HttpRequest, content_digest, load_private_key, sign_request
from tests.partners.conftest import BASE_URL, Hub, gql_body, operation


def _award_body(hub: Hub) -> bytes:
    member = hub.enrol()
    return gql_body(operation("AwardPoints"), {"input": {
        "cardNumber": member.card_number, "amount": 500, "currency": "EUR"}})


def _keys_used(hub: Hub) -> list[str]:
    """The keys partner requests booked under (enrolling the test's member books one too)."""
    query = select(idempotency_keys.c.key).where(idempotency_keys.c.scope.like("partner:%"))
    return hub.db.read(lambda conn: sorted(conn.execute(query).scalars()))


def test_two_idempotency_key_lines_book_under_the_value_the_signature_covers(hub: Hub) -> None:
    """RFC 9421 signs repeated field lines as one value joined by ", "; the hub used to book
    under the last line alone, a key the signature never covered (so two requests signed over
    "a, k" and "b, k" were one request to the hub)."""
    body = _award_body(hub)
    partner = hub.partners["cafe"]
    fields = [("Content-Type", "application/json"), ("Content-Digest", content_digest(body)),
              ("Idempotency-Key", "till-1"), ("Idempotency-Key", "receipt-9")]
    signed = sign_request(
        HttpRequest("POST", f"{BASE_URL}/graphql", fields, body),
        key=load_private_key(partner.private_pem), key_id=partner.key_id,
        covered=["@method", "@authority", "@path", "content-type", "content-digest",
                 "idempotency-key"])
    response = hub.http.post("/graphql", content=body, headers=list(signed.headers))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["awardPoints"]["userErrors"] == []
    assert _keys_used(hub) == ["till-1, receipt-9"]
