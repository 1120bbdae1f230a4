"""A signed single earn in one round trip: the nonce claim and the card lookup happen inside the
earn's own statement on PostgreSQL (network/ledger/pg_writer.py), and every answer is the one
the separate steps gave: a replayed nonce is 401 before anything else and writes nothing, an
unknown card is MEMBER_NOT_FOUND, a retry of the same key gets its first answer, and the digest
names the member (so the same purchase by memberId replays, another member's card does not).
The HTTP tests run on SQLite (every step separate) and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, text

from network import cards, idempotency
from network.auth import AuthError, ClaimRefused, DeferredClaim
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import idempotency_keys
from network.ledger import pg_writer
from network.ledger.verify import verify
from network.member_ids import ByCard
from network.programme import conversions
from partners import nonces
from partners.keys_schema import partner_nonces
from tests.partners.conftest import Hub, error_code, gql_body, operation, post_signed

AWARD = operation("AwardPoints")


def _body(card: str, amount: int = 500, reference: str | None = None) -> bytes:
    data: dict[str, Any] = {"cardNumber": card, "amount": amount, "currency": "EUR"}
    if reference is not None:
        data["reference"] = reference
    return gql_body(AWARD, {"input": data})


def _forget_cards(hub: Hub) -> None:
    """The app's card cache emptied: the next earn by card looks the card up."""
    caches = getattr(hub.http.app.state, "partner_caches", None)
    if caches is not None:
        caches.cards.ids.clear()


def _written(hub: Hub) -> tuple[Any, ...]:
    """Everything a request may write: ledger rows, remembered keys, claimed nonces."""
    def count(conn: Any) -> tuple[int, int]:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (idempotency_keys, partner_nonces))
    return (*hub.ledger_counts(), *hub.db.read(count))


def _award(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()["data"]["awardPoints"]


def _unused_card(hub: Hub) -> str:
    """A well-formed card number nobody holds."""
    while True:
        card = cards.generate()
        if hub.db.read(lambda c, card=card: c.execute(
                text("SELECT count(*) FROM members WHERE card_number = :c"),
                {"c": card}).scalar_one()) == 0:
            return card


def test_a_replayed_nonce_is_401_first_and_writes_nothing(any_hub: Hub) -> None:
    member = any_hub.enrol()
    body = _body(member.card_number)
    _forget_cards(any_hub)
    first = post_signed(any_hub, body, idempotency_key="k-1", nonce="nonce-0000001")
    assert _award(first)["userErrors"] == []
    before = _written(any_hub)
    _forget_cards(any_hub)
    again = post_signed(any_hub, body, idempotency_key="k-1", nonce="nonce-0000001")
    assert again.status_code == 401 and error_code(again) == "NONCE_REPLAYED", again.text
    # The same nonce on a new request (a new key, another amount): still refused, nothing booked.
    other = post_signed(any_hub, _body(member.card_number, 700), idempotency_key="k-2",
                        nonce="nonce-0000001")
    assert other.status_code == 401 and error_code(other) == "NONCE_REPLAYED", other.text
    # A request that would be refused anyway answers the replay, not its userError.
    unknown = post_signed(any_hub, _body(_unused_card(any_hub)), idempotency_key="k-3",
                          nonce="nonce-0000001")
    assert unknown.status_code == 401 and error_code(unknown) == "NONCE_REPLAYED"
    assert _written(any_hub) == before
    assert verify(any_hub.db) == []


def test_an_unknown_card_is_member_not_found_and_books_nothing(any_hub: Hub) -> None:
    card = _unused_card(any_hub)
    before = _written(any_hub)
    refused = _award(post_signed(any_hub, _body(card), idempotency_key="k-1",
                                 nonce="nonce-0000002"))
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == \
        [("cardNumber", "MEMBER_NOT_FOUND")]
    assert refused["transaction"] is None
    ledger, keys, claimed = before[:3], before[3], before[4]
    # Only the nonce is claimed: the request was genuine, and its nonce is now used.
    assert _written(any_hub) == (*ledger, keys, claimed + 1)
    replay = post_signed(any_hub, _body(card), idempotency_key="k-1", nonce="nonce-0000002")
    assert replay.status_code == 401 and error_code(replay) == "NONCE_REPLAYED"
    # Refused for something else too (a foreign currency, a channel nobody knows): the card is
    # still the error named, as when it was looked up first.
    for extra in ({"currency": "USD"}, {"channel": "carrier-pigeon"}):
        body = gql_body(AWARD, {"input": {"cardNumber": card, "amount": 500, "currency": "EUR",
                                          **extra}})
        both = _award(post_signed(any_hub, body, idempotency_key="k-2"))
        assert [(e["field"], e["code"]) for e in both["userErrors"]] == \
            [("cardNumber", "MEMBER_NOT_FOUND")], extra


def test_a_retry_by_card_gets_its_first_answer_and_the_digest_names_the_member(
        any_hub: Hub) -> None:
    member, other = any_hub.enrol(), any_hub.enrol()
    _forget_cards(any_hub)
    first = _award(post_signed(any_hub, _body(member.card_number, reference="r-1"),
                               idempotency_key="k-1", nonce="nonce-0000003"))
    assert first["userErrors"] == [] and first["transaction"]["points"] > 0
    written = _written(any_hub)
    _forget_cards(any_hub)
    retry = _award(post_signed(any_hub, _body(member.card_number, reference="r-1"),
                               idempotency_key="k-1", nonce="nonce-0000004"))
    assert retry == first
    # The same purchase naming the member by id is the same request (as before the fold).
    by_id = _award(post_signed(any_hub, gql_body(AWARD, {"input": {
        "memberId": first["transaction"]["memberId"], "amount": 500, "currency": "EUR",
        "reference": "r-1"}}), idempotency_key="k-1", nonce="nonce-0000005"))
    assert by_id == first
    # Another member's card under the same key is another request.
    _forget_cards(any_hub)
    reused = _award(post_signed(any_hub, _body(other.card_number, reference="r-1"),
                                idempotency_key="k-1", nonce="nonce-0000006"))
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    # The three retries claimed their nonces and wrote nothing else.
    assert _written(any_hub) == (*written[:4], written[4] + 3)
    assert verify(any_hub.db) == []


def test_a_signed_earn_by_card_is_one_statement(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the fold: nonce, card and earn in one round trip (PostgreSQL)."""
    warm, member = hub.enrol(), hub.enrol()
    monkeypatch.setattr(nonces, "due_for_pruning", lambda: False)
    # A member surely not referred: after_earn reads nothing (the process's set is a cache).
    monkeypatch.setattr(conversions, "may_be_pending", lambda _db, _ids, **_kw: [])
    assert _award(post_signed(hub, _body(warm.card_number), idempotency_key="k-0",
                              nonce="nonce-0000007"))["userErrors"] == []
    _forget_cards(hub)
    sent: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(str(query))
        return original(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    booked = _award(post_signed(hub, _body(member.card_number), idempotency_key="k-1",
                                nonce="nonce-0000008"))
    monkeypatch.setattr(psycopg.Cursor, "execute", original)
    assert booked["userErrors"] == [] and booked["transaction"]["points"] > 0
    assert len(sent) == 1 and "INSERT INTO partner_nonces" in sent[0], sent


def test_the_statement_completes_the_digest_as_python_computes_it(pg_db: Database) -> None:
    card = ByCard("4000000000000002")
    request = {"member": card, "reference": 'a "quoted" ré\\ference', "amount_minor": 5,
               "currency": "EUR", "points_given": None, "basket": [["s", "c", 1, 5]]}
    params = {"issuer": 7, "member": card, "kind": "earn", "request": request}
    parts = idempotency.request_hash_around("earn", params, card, card.marker)
    assert parts is not None and len(parts) == 3
    member_id = 123456789012
    with psycopg.connect(pg_db.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        found = conn.execute("SELECT encode(sha256(convert_to(array_to_string("
                             "CAST(%s AS text[]), CAST(CAST(%s AS bigint) AS text)), 'UTF8')),"
                             " 'hex')", (parts, member_id)).fetchone()[0]
    expected = {**params, "member": member_id, "request": {**request, "member": member_id}}
    assert found == idempotency.request_hash("earn", expected)
    # A value a partner sent that reads like the marker leaves the card to be looked up first.
    sneaky = {**params, "request": {**request, "reference": card.marker}}
    assert idempotency.request_hash_around("earn", sneaky, card, card.marker) is None


def test_an_earn_handed_over_has_claimed_its_nonce_and_a_replayed_one_books_nothing(
        hub: Hub) -> None:
    """`guard` false: the statement books nothing and hands the earn over, its nonce claimed;
    a claim refused raises ClaimRefused and the statement wrote nothing."""
    member = hub.enrol()
    key_id = hub.partners["cafe"].key_id
    party_id = hub.partners["cafe"].party_id
    now = utcnow()

    def claim(nonce: str) -> DeferredClaim:
        return nonces.deferred(hub.db, key_id, nonce, now + timedelta(minutes=5), now,
                               refusal=lambda: AuthError(401, "NONCE_REPLAYED", "replayed"))

    def earn(pending: DeferredClaim, key: str, guard: str) -> Any:
        return pg_writer.earn_statement(
            hub.db.pg_statement, scope=f"partner:{party_id}", key=key, digest="d" * 64,
            kind="earn", issuer_id=party_id, member_id=member.id, points=10, reference=None,
            details=None, vests_at=now, expires_at=None, at=now, booked_at=now.isoformat(),
            guard=guard, claim=pending)

    before = _written(hub)
    first = claim("nonce-0000009")
    assert earn(first, "k-1", "false") is None and first.claimed
    assert _written(hub) == (*before[:4], before[4] + 1)
    replayed = claim("nonce-0000009")
    with pytest.raises(ClaimRefused):
        earn(replayed, "k-2", "true")
    assert replayed.refusal is not None and replayed.refusal.code == "NONCE_REPLAYED"
    assert _written(hub) == (*before[:4], before[4] + 1)
