"""Edges of the partner API found by an audit: junk ids and cursors, forward-only connections,
offset-aware date filters, reversal error fields, request-level error codes, and the
document cache under anonymous padding."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from graphene import relay

from infra.app import create_app
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

NODE = "query($id: ID!) { node(id: $id) { id } }"
TOO_BIG = str(2**63)  # one past the largest BIGINT


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _award(hub: Hub, card: str, amount: int = 1000) -> dict[str, Any]:
    with hub.client() as cafe:
        result = cafe.execute(operation("AwardPoints"),
                              {"input": {"cardNumber": card, "amount": amount, "currency": "EUR"}})
    return result["data"]["awardPoints"]["transaction"]


def _anonymous(http: TestClient, query: str, **extra: Any) -> Any:
    return http.post("/graphql", json={"query": query, **extra})


@pytest.mark.parametrize("bad_id", [
    "!!!", "", _b64("Nope:1"), _b64("WalletParty:1"), _b64("PartnerTransaction:-1"),
    _b64("PartnerTransaction:1_0"), _b64(f"PartnerTransaction:{TOO_BIG}"),
])
def test_node_refuses_ids_the_api_never_issues(any_hub: Hub, bad_id: str) -> None:
    with any_hub.client() as cafe:
        result = cafe.execute(NODE, {"id": bad_id})
    assert result["data"] == {"node": None}
    [error] = result["errors"]
    assert error["extensions"] == {"code": "INVALID_ID", "field": "id"}


def test_node_of_a_well_formed_id_of_nothing_is_null(any_hub: Hub) -> None:
    with any_hub.client() as cafe:
        for type_name in ("PartnerTransaction", "PartnerHold", "PartnerMember", "Charity"):
            missing = relay.Node.to_global_id(type_name, 2**63 - 1)
            assert cafe.execute(NODE, {"id": missing}) == {"data": {"node": None}}


def test_out_of_range_ids_and_cursors_are_the_callers_mistake(any_hub: Hub) -> None:
    member_query = "query($id: ID) { partner { member(id: $id) { id } } }"
    transactions = "query($after: String) { partner { transactions(after: $after) { edges " \
                   "{ cursor } } } }"
    with any_hub.client() as cafe:
        member = cafe.execute(
            member_query, {"id": relay.Node.to_global_id("PartnerMember", TOO_BIG)})
        assert member["errors"][0]["extensions"] == {"code": "INVALID_ID", "field": "id"}
        for cursor in (_b64(f"tx:{TOO_BIG}"), _b64("tx:0"), _b64("tx:-5"), _b64("tx: 7"), "%%"):
            page = cafe.execute(transactions, {"after": cursor})
            assert page["errors"][0]["extensions"] == {"code": "INVALID_CURSOR",
                                                       "field": "after"}, cursor
        assert cafe.execute(transactions, {"after": _b64(f"tx:{2**63 - 1}")}) == {
            "data": {"partner": {"transactions": {"edges": []}}}}


def test_forward_only_connections_have_no_last_or_before(hub: Hub) -> None:
    def arguments(type_name: str, field: str) -> set[str]:
        return set(schema.graphql_schema.get_type(type_name).fields[field].args)  # type: ignore[union-attr]

    assert arguments("PartnerViewer", "transactions") == {
        "first", "after", "kinds", "bookedFrom", "bookedBefore", "memberId"}
    assert arguments("Query", "settlementRuns") == {"first", "after"}
    last = "{ partner { transactions(last: 2) { edges { cursor } } } }"
    response = post_signed(hub, gql_body(last))
    assert response.status_code == 400 and error_code(response) == "GRAPHQL_VALIDATION_FAILED"


def test_date_filters_honour_the_utc_offset(any_hub: Hub) -> None:
    member = any_hub.enrol()
    booked = [_award(any_hub, member.card_number)["bookedAt"] for _ in range(3)]
    earliest = min(datetime.fromisoformat(b) for b in booked)
    # A second before the first booking, written as Tehran wall-clock time (+03:30).
    tehran = (earliest - timedelta(seconds=1)).astimezone(
        timezone(timedelta(hours=3, minutes=30))).isoformat()
    assert tehran.endswith("+03:30")
    with any_hub.client() as cafe:
        def count(**filters: str) -> int:
            page = cafe.execute(operation("Transactions"), filters)
            return len(page["data"]["partner"]["transactions"]["edges"])

        assert count(bookedFrom=tehran) == 3
        assert count(bookedBefore=tehran) == 0


def test_reversal_errors_name_the_transaction_id_field(any_hub: Hub) -> None:
    member = any_hub.enrol()
    tx = _award(any_hub, member.card_number)["id"]
    unknown = relay.Node.to_global_id("PartnerTransaction", 2**63 - 1)
    with any_hub.client() as cafe:
        def errors(name: str, transaction_id: str) -> list[dict[str, Any]]:
            result = cafe.execute(operation(name), {"input": {"transactionId": transaction_id}})
            return result["data"][name[0].lower() + name[1:]]["userErrors"]

        for name in ("ReverseEarn", "ReverseRedemption"):
            [missing] = errors(name, unknown)
            assert (missing["code"], missing["field"]) == ("ENTRY_NOT_FOUND", "transactionId")
        assert errors("ReverseEarn", tx) == []
        counts = any_hub.ledger_counts()
        [again] = errors("ReverseEarn", tx)
        assert (again["code"], again["field"]) == ("ALREADY_REVERSED", "transactionId")
        assert any_hub.ledger_counts() == counts


def test_a_reused_key_names_the_idempotency_key_header(any_hub: Hub) -> None:
    member = any_hub.enrol()
    award = operation("AwardPoints")
    with any_hub.client() as cafe:
        def send(amount: int) -> dict[str, Any]:
            return cafe.execute(award, {"input": {"cardNumber": member.card_number,
                                                  "amount": amount, "currency": "EUR"}},
                                idempotency_key="till-1/receipt-1")["data"]["awardPoints"]

        assert send(1000)["userErrors"] == []
        counts = any_hub.ledger_counts()
        [reused] = send(2000)["userErrors"]
        assert (reused["code"], reused["field"]) == ("IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")
        assert any_hub.ledger_counts() == counts


def test_request_level_errors_have_a_code(hub: Hub) -> None:
    two = "query A { charities { code } } query B { charities { code } }"
    for extra, code in (
        ({}, "BAD_REQUEST"),  # two operations, no operationName
        ({"operationName": "C"}, "BAD_REQUEST"),
    ):
        response = _anonymous(hub.http, two, **extra)
        assert response.status_code == 400 and error_code(response) == code
    missing = _anonymous(hub.http, "query($n: Boolean!) { charities @include(if: $n) { code } }")
    assert missing.status_code == 400 and error_code(missing) == "BAD_USER_INPUT"


def test_suggestions_are_hidden_in_production_only(hub: Hub) -> None:
    typo = "{ charities { cod } }"
    development = _anonymous(hub.http, typo).json()["errors"][0]
    assert "Did you mean 'code'" in development["message"]
    production = Settings(database_url=hub.db.url, env="production", secret_key="prod-secret")
    with TestClient(create_app(production, hub.db), base_url=BASE_URL) as client:
        response = _anonymous(client, typo)
        enum_typo = _anonymous(client, "query($k: [TransactionKind!]) { charities { code } }",
                               variables={"k": ["EAR"]})
    [error] = response.json()["errors"]
    assert response.status_code == 400
    assert error["message"] == "Cannot query field 'cod' on type 'Charity'."
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "Did you mean" not in enum_typo.json()["errors"][0]["message"]


def test_padded_anonymous_queries_are_answered_but_not_cached(hub: Hub) -> None:
    documents = hub.http.app.state.documents  # type: ignore[attr-defined]
    _anonymous(hub.http, "{ charities { code } }")
    before = (len(documents), documents.total_chars)
    for i in range(5):
        # Over the cache's document size, under the body limit for unsigned requests (64 KiB).
        padded = f"{{ charities {{ code }} }}\n#{i}" + "x" * (48 * 1024)
        response = _anonymous(hub.http, padded)
        assert response.status_code == 200 and response.json() == {"data": {"charities": []}}
    assert (len(documents), documents.total_chars) == before


def test_a_mistyped_card_is_not_an_unknown_member(hub: Hub) -> None:
    member = hub.enrol()
    typo = member.card_number[:-1] + str((int(member.card_number[-1]) + 1) % 10)
    with hub.client() as cafe:
        found = cafe.execute(operation("LookUpMember"), {"cardNumber": member.card_number})
        assert found["data"]["partner"]["member"]["cardNumber"] == member.card_number
        refused = cafe.execute(operation("LookUpMember"), {"cardNumber": typo})
        assert refused["data"]["partner"]["member"] is None
        [error] = refused["errors"]
        assert error["extensions"] == {"code": "INVALID_CARD_NUMBER", "field": "cardNumber"}
        unknown = cafe.execute(operation("LookUpMember"), {"cardNumber": "7012345678901232"})
        assert unknown["data"]["partner"]["member"] is None and "errors" not in unknown


def test_refusals_quote_no_internal_row_ids(hub: Hub) -> None:
    """Partners only ever see opaque ids; a message naming row 4 means nothing to them."""
    member = hub.enrol()
    earn = _award(hub, member.card_number)
    with hub.client() as cafe:
        hold = cafe.execute(operation("AuthorizeHold"), {"input": {
            "cardNumber": member.card_number, "points": 10}})["data"]["authorizeHold"]
        hold_id = hold["hold"]["id"]
        over = cafe.execute(operation("CaptureHold"), {"input": {"holdId": hold_id,
                                                                 "points": 11}})
        reverse = operation("ReverseEarn")
        cafe.execute(reverse, {"input": {"transactionId": earn["id"]}})
        again = cafe.execute(reverse, {"input": {"transactionId": earn["id"]}})
    with hub.client("shop") as shop:
        foreign = shop.execute(operation("VoidHold"), {"input": {"holdId": hold_id}})
    messages = [over["data"]["captureHold"]["userErrors"][0]["message"],
                again["data"]["reverseEarn"]["userErrors"][0]["message"],
                foreign["data"]["voidHold"]["userErrors"][0]["message"]]
    assert messages == ["the hold reserves 10 points; cannot capture 11",
                        "this earn is already fully reversed",
                        "no hold with this id for this partner"]


def test_a_body_that_is_not_json_is_refused_with_415(hub: Hub) -> None:
    body = gql_body(operation("PartnerInfo"))
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        response = hub.http.post("/graphql", content=body, headers=headers)
        assert response.status_code == 415, content_type
        assert error_code(response) == "UNSUPPORTED_MEDIA_TYPE"
        assert f"not {content_type or 'none'}" in response.json()["errors"][0]["message"]
    with_charset = hub.http.post("/graphql", content=gql_body("{ __typename }"),
                                 headers={"content-type": "Application/JSON; charset=utf-8"})
    assert with_charset.json() == {"data": {"__typename": "Query"}}
