"""An Idempotency-Key names one request with one answer: a retry gets that answer even after the
contract changed, a document with two mutations is refused whole, and every refusal about the
key names the header the partner sent."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete

from network.clock import utcnow
from network.ledger.verify import verify
from partners.contracts import add_contract
from partners.contracts_schema import contracts
from partners.terms import Terms
from tests.partners.conftest import Hub, operation

AWARD, BATCH = operation("AwardPoints"), operation("AwardPointsBatch")


def _new_terms(hub: Hub, code: str, terms: Terms) -> None:
    """A contract in force from now on, seen at once (the app caches terms for 5 s)."""
    now = utcnow()
    hub.db.write(lambda conn: add_contract(conn, hub.partners[code].party_id, terms,
                                           effective_from=now, now=now))
    del hub.http.app.state.partner_caches  # type: ignore[attr-defined]


def test_a_retry_gets_its_first_answer_whatever_the_contract_says_now(any_hub: Hub) -> None:
    member = any_hub.enrol(by="shop")
    card = member.card_number
    explicit = {"cardNumber": card, "amount": 100, "currency": "EUR", "points": 77}
    by_rate = {"cardNumber": card, "amount": 100, "currency": "EUR"}  # 1 EUR x 1.5 = 2 points
    with any_hub.client("shop") as shop:
        first = {
            "explicit": shop.execute(AWARD, {"input": explicit}, idempotency_key="a-1"),
            "rate": shop.execute(AWARD, {"input": by_rate}, idempotency_key="a-2"),
            "batch": shop.execute(BATCH, {"input": {"lines": [explicit, by_rate]}},
                                  idempotency_key="b-1"),
        }
        assert first["explicit"]["data"]["awardPoints"]["transaction"]["points"] == 77
        assert first["batch"]["data"]["awardPointsBatch"]["accepted"] == 2
        counts = any_hub.ledger_counts()

        def replays() -> dict[str, object]:
            return {
                "explicit": shop.execute(AWARD, {"input": explicit}, idempotency_key="a-1"),
                "rate": shop.execute(AWARD, {"input": by_rate}, idempotency_key="a-2"),
                "batch": shop.execute(BATCH, {"input": {"lines": [explicit, by_rate]}},
                                      idempotency_key="b-1"),
            }

        # Explicit points no longer allowed, and a rate at which 1 EUR earns nothing.
        _new_terms(any_hub, "shop", Terms(earn_points_per_unit=Decimal("0.1"),
                                          allow_explicit_points=False))
        assert replays() == first
        assert any_hub.ledger_counts() == counts
        fresh = shop.execute(AWARD, {"input": explicit}, idempotency_key="a-3")
        assert [e["code"] for e in fresh["data"]["awardPoints"]["userErrors"]] == [
            "EXPLICIT_POINTS_NOT_ALLOWED"]
        other = shop.execute(AWARD, {"input": dict(explicit, points=78)}, idempotency_key="a-1")
        assert [e["code"] for e in other["data"]["awardPoints"]["userErrors"]] == [
            "IDEMPOTENCY_KEY_REUSED"]

        # No contract in force at all.
        any_hub.db.write(lambda conn: conn.execute(
            delete(contracts).where(contracts.c.party_id == any_hub.partners["shop"].party_id)))
        del any_hub.http.app.state.partner_caches  # type: ignore[attr-defined]
        assert replays() == first
        assert any_hub.ledger_counts() == counts
        fresh = shop.execute(AWARD, {"input": by_rate}, idempotency_key="a-4")
        assert [e["code"] for e in fresh["data"]["awardPoints"]["userErrors"]] == ["NO_CONTRACT"]
        batch = shop.execute(BATCH, {"input": {"lines": [by_rate]}}, idempotency_key="b-2")
        assert [e["code"] for e in batch["data"]["awardPointsBatch"]["userErrors"]] == [
            "NO_CONTRACT"]
    assert any_hub.ledger_counts() == counts
    assert verify(any_hub.db) == []


def test_a_document_with_two_mutations_is_refused_whole(any_hub: Hub) -> None:
    member = any_hub.enrol()
    award = '''mutation Two($a: AwardPointsInput!, $r: RedeemPointsInput!) {
      first: awardPoints(input: $a) { transaction { id } userErrors { field code message } }
      second: redeemPoints(input: $r) { transaction { id } userErrors { field code message } }
    }'''
    variables = {"a": {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"},
                 "r": {"cardNumber": member.card_number, "points": 1}}
    with any_hub.client() as cafe:
        data = cafe.execute(award, variables, idempotency_key="two-1")["data"]
        for field in ("first", "second"):
            assert data[field]["transaction"] is None
            [error] = data[field]["userErrors"]
            assert error["code"] == "MULTIPLE_MUTATIONS"
            assert "(first, second)" in error["message"]
        assert any_hub.ledger_counts() == (0, 0, 0)
        # The key was not spent: the same key then books one mutation.
        one = '''mutation One($a: AwardPointsInput!) {
          __typename
          awardPoints(input: $a) { transaction { points } userErrors { code } }
        }'''
        data = cafe.execute(one, {"a": variables["a"]}, idempotency_key="two-1")["data"]
        assert data["awardPoints"] == {"transaction": {"points": 100}, "userErrors": []}


def test_refusals_about_the_key_name_the_header(any_hub: Hub) -> None:
    member = any_hub.enrol()
    line = {"cardNumber": member.card_number, "amount": 1000, "currency": "EUR"}
    enrol = operation("EnrolMember")
    with any_hub.client() as cafe:
        cafe.execute(enrol, {"input": {"phone": "+98 912 000 0001"}}, idempotency_key="e-1")
        again = cafe.execute(enrol, {"input": {"phone": "+98 912 000 0002"}},
                             idempotency_key="e-1")["data"]["enrolMember"]
        assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
            ("Idempotency-Key", "IDEMPOTENCY_KEY_REUSED")]

        cafe.execute(BATCH, {"input": {"lines": [line]}}, idempotency_key="b-1")
        changed = cafe.execute(BATCH, {"input": {"lines": [dict(line, amount=2000)]}},
                               idempotency_key="b-1")["data"]["awardPointsBatch"]
        [result] = changed["results"]
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
            ("Idempotency-Key", "IDEMPOTENCY_KEY_REUSED")]
