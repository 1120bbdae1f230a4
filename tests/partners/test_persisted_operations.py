"""The documented operations' lean path (infra/persisted_operations.py: a partner's earns, a
member's BuyReward) answers exactly what graphql-core answers: the same bytes, status, metrics,
for a booking, every kind of userError, a replay and an error.

The general path is reached with the same operation sent as a text the lean path does not know
(the document plus a space). A booking is compared with its replay through the other path: the
replay answers from the stored receipt, so equal bytes mean both paths build the same answer from
the same payload. Refusals write nothing, so the same request is simply sent both ways.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY

import partners.gql.earn
from infra.app import create_app
from infra.persisted_operations import PersistedOperations
from infra.query_limits import Limits
from network.ledger.verify import verify
from network.programme import rewards_buy
from tests.partners.conftest import (
    BASE_URL,
    Hub,
    TestClient,
    gql_body,
    operation,
    post_signed,
    signed_headers,
)
from tests.partners.test_rewards_api import MEMBER_OPS, funded_member, publish

AWARD = operation("AwardPoints")
BATCH = operation("AwardPointsBatch")
GENERAL = " "  # appended to a document: the same operation, but not the persisted text


@pytest.fixture
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations the lean path executed."""
    calls: list[str] = []
    execute = PersistedOperations.execute

    def spy(self: PersistedOperations, prepared: Any, *args: Any) -> Any:
        calls.append(prepared.name)
        return execute(self, prepared, *args)

    monkeypatch.setattr(PersistedOperations, "execute", spy)
    return calls


def send(hub: Hub, query: str, variables: dict[str, Any], key: str | None,
         code: str = "cafe") -> tuple[int, bytes]:
    response = post_signed(hub, gql_body(query, {"input": variables}), code=code,
                           idempotency_key=key)
    return response.status_code, response.content


def booked_both_ways(hub: Hub, query: str, variables: dict[str, Any],
                     code: str = "cafe") -> bytes:
    """Book through each path and replay through the other; returns the lean path's answer."""
    key = str(uuid.uuid4())
    lean = send(hub, query, variables, key, code)
    assert lean == send(hub, query + GENERAL, variables, key, code)
    key = str(uuid.uuid4())
    general = send(hub, query + GENERAL, variables, key, code)
    assert general == send(hub, query, variables, key, code)
    return lean[1]


def refused_both_ways(hub: Hub, query: str, variables: dict[str, Any], key: str | None,
                      code: str = "cafe") -> bytes:
    before = hub.ledger_counts()
    lean = send(hub, query, variables, key, code)
    assert lean == send(hub, query + GENERAL, variables, key, code)
    assert hub.ledger_counts() == before
    return lean[1]


def test_a_booking_answers_the_same_bytes_both_ways(hub: Hub, lean_calls: list[str]) -> None:
    member = hub.enrol()
    answer = booked_both_ways(hub, AWARD, {"cardNumber": member.card_number, "amount": 1250,
                                           "currency": "EUR", "reference": "r-1"})
    assert b'"points":125' in answer and b'"userErrors":[]' in answer
    assert lean_calls == ["AwardPoints", "AwardPoints"]  # the first booking and one replay


def test_every_input_field_answers_the_same(hub: Hub, lean_calls: list[str]) -> None:
    from graphene import relay

    member = hub.enrol()
    member_id = relay.Node.to_global_id("PartnerMember", member.id)
    answer = booked_both_ways(hub, AWARD, {
        "memberId": member_id, "cardNumber": None, "amount": 5000, "currency": "EUR",
        "points": 77, "reference": None, "channel": "online",
        "basket": [{"sku": "A-1", "category": "coffee", "quantity": 2, "amount": 1000},
                   {"sku": "B-2", "category": "pastry", "amount": 500}]}, code="shop")
    assert b'"points":77' in answer
    assert lean_calls == ["AwardPoints", "AwardPoints"]


@pytest.mark.parametrize(("variables", "code"), [
    ({"cardNumber": "4000000000000002", "amount": 100, "currency": "EUR"}, "MEMBER_NOT_FOUND"),
    ({"cardNumber": "12", "amount": 100, "currency": "EUR"}, "INVALID_CARD_NUMBER"),
    ({"amount": 100, "currency": "EUR"}, "MEMBER_REFERENCE"),
    ({"memberId": "nope", "amount": 100, "currency": "EUR"}, "INVALID_ID"),
    ({"card": True, "amount": 0, "currency": "EUR"}, "INVALID_AMOUNT"),
    ({"card": True, "amount": 100, "currency": "USD"}, "CURRENCY_MISMATCH"),
    ({"card": True, "amount": 100, "currency": "EUR", "points": 5},
     "EXPLICIT_POINTS_NOT_ALLOWED"),
    ({"card": True, "amount": 100, "currency": "EUR", "channel": "fax"}, "INVALID_INPUT"),
    ({"card": True, "amount": 100, "currency": "EUR",
      "basket": [{"sku": "A", "category": "coffee", "amount": 101}]}, "INVALID_INPUT"),
    ({"card": True, "amount": 100, "currency": "EUR",
      "basket": [{"sku": "A", "category": "coffee", "quantity": None, "amount": 1}]},
     "INVALID_INPUT"),
])
def test_every_refusal_answers_the_same(hub: Hub, lean_calls: list[str],
                                        variables: dict[str, Any], code: str) -> None:
    if variables.pop("card", False):
        variables["cardNumber"] = hub.enrol().card_number
    answer = refused_both_ways(hub, AWARD, variables, str(uuid.uuid4()))
    assert f'"code":"{code}"'.encode() in answer
    assert lean_calls == ["AwardPoints"]


def test_header_refusals_answer_the_same(hub: Hub, lean_calls: list[str]) -> None:
    variables = {"cardNumber": hub.enrol().card_number, "amount": 100, "currency": "EUR"}
    assert b"IDEMPOTENCY_KEY_MISSING" in refused_both_ways(hub, AWARD, variables, None)
    assert b"IDEMPOTENCY_KEY_INVALID" in refused_both_ways(hub, AWARD, variables, "k" * 193)
    key = str(uuid.uuid4())
    send(hub, AWARD, variables, key)
    assert b"IDEMPOTENCY_KEY_REUSED" in refused_both_ways(hub, AWARD, {**variables,
                                                                       "amount": 200}, key)


@pytest.mark.parametrize("variables", [
    {"cardNumber": "4000000000000002", "amount": "100", "currency": "EUR"},  # a string
    {"cardNumber": "4000000000000002", "amount": 100.0, "currency": "EUR"},  # an integral float
    {"cardNumber": "4000000000000002", "amount": 2**31, "currency": "EUR"},  # over Int
    {"cardNumber": "4000000000000002", "amount": 100, "currency": "EUR", "colour": "red"},
    {"cardNumber": "4000000000000002", "currency": "EUR"},  # amount missing
    {"memberId": 7, "amount": 100, "currency": "EUR"},  # an ID as a number
    {"cardNumber": "4000000000000002", "amount": 100, "currency": "EUR",
     "basket": {"sku": "A", "category": "coffee", "amount": 1}},  # one line, not a list
])
def test_inputs_graphql_core_would_convert_or_refuse_take_the_general_path(
        hub: Hub, lean_calls: list[str], variables: dict[str, Any]) -> None:
    assert (send(hub, AWARD, variables, str(uuid.uuid4()))[1]
            == send(hub, AWARD + GENERAL, variables, str(uuid.uuid4()))[1])
    assert lean_calls == []


def test_an_error_answers_the_same(hub: Hub, lean_calls: list[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the ledger is on fire")

    monkeypatch.setattr(partners.gql.earn, "award_points", broken)
    variables = {"cardNumber": hub.enrol().card_number, "amount": 100, "currency": "EUR"}
    answer = refused_both_ways(hub, AWARD, variables, str(uuid.uuid4()))
    assert answer.startswith(b'{"data":{"awardPoints":null},"errors":[{"message":"internal')
    assert b'"path":["awardPoints"]' in answer and b'"locations":[{"line":7' in answer
    assert lean_calls == ["AwardPoints"]


def test_a_payload_graphql_core_must_refuse_is_completed_by_graphql_core(
        hub: Hub, lean_calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A balance over GraphQL's Int: graphql-core's own error, at the field, both ways."""
    award = partners.gql.earn.award_points

    def huge(*args: Any, **kwargs: Any) -> Any:
        from dataclasses import replace
        return replace(award(*args, **kwargs), balance=2**40)

    monkeypatch.setattr(partners.gql.earn, "award_points", huge)
    member = hub.enrol()
    answer = booked_both_ways(hub, AWARD, {"cardNumber": member.card_number, "amount": 100,
                                           "currency": "EUR"})
    assert b'"balanceAfter":null' in answer and b"Int cannot represent" in answer
    assert b'"path":["awardPoints","balanceAfter"]' in answer


def test_a_batch_answers_the_same_bytes_both_ways(hub: Hub, lean_calls: list[str]) -> None:
    cards = [hub.enrol().card_number for _ in range(3)]
    lines = [{"cardNumber": card, "amount": 100 * (i + 1), "currency": "EUR"}
             for i, card in enumerate(cards)]
    lines.insert(1, {"cardNumber": "4000000000000002", "amount": 100, "currency": "EUR"})
    lines.append({"cardNumber": cards[0], "amount": 0, "currency": "EUR"})
    answer = booked_both_ways(hub, BATCH, {"lines": lines})
    assert b'"accepted":3,"rejected":2' in answer
    assert b'"field":"lines.1.cardNumber","code":"MEMBER_NOT_FOUND"' in answer
    assert lean_calls == ["AwardPointsBatch", "AwardPointsBatch"]


def test_whole_batch_refusals_answer_the_same(hub: Hub, lean_calls: list[str]) -> None:
    assert b'"code":"BATCH_EMPTY"' in refused_both_ways(hub, BATCH, {"lines": []},
                                                        str(uuid.uuid4()))
    line = {"cardNumber": hub.enrol().card_number, "amount": 100, "currency": "EUR"}
    assert b'"code":"BATCH_TOO_LARGE"' in refused_both_ways(hub, BATCH, {"lines": [line] * 1001},
                                                            str(uuid.uuid4()))
    assert lean_calls == ["AwardPointsBatch", "AwardPointsBatch"]


def _ledger_count(operation: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("pointsnet_ledger_operations_total",
                                     {"operation": operation, "outcome": outcome}) or 0.0


def test_both_paths_count_the_same_metrics(hub: Hub, lean_calls: list[str]) -> None:
    variables = {"cardNumber": "4000000000000002", "amount": 100, "currency": "EUR"}
    before = _ledger_count("awardPoints", "MEMBER_NOT_FOUND")
    send(hub, AWARD, variables, str(uuid.uuid4()))
    assert _ledger_count("awardPoints", "MEMBER_NOT_FOUND") == before + 1
    send(hub, AWARD + GENERAL, variables, str(uuid.uuid4()))
    assert _ledger_count("awardPoints", "MEMBER_NOT_FOUND") == before + 2
    assert lean_calls == ["AwardPoints"]


def test_a_document_the_apps_limits_refuse_is_not_persisted(hub: Hub,
                                                            lean_calls: list[str]) -> None:
    """A hub configured with tighter limits refuses the documented text as graphql-core does."""
    variables = {"input": {"cardNumber": hub.enrol().card_number, "amount": 100,
                           "currency": "EUR"}}
    body = gql_body(AWARD, variables)
    app = create_app(hub.settings, hub.db, limits=Limits(max_depth=2))
    with TestClient(app, base_url=BASE_URL) as http:
        response = http.post("/graphql", content=body, headers=signed_headers(
            hub, body, idempotency_key=str(uuid.uuid4())))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert lean_calls == []


# ---- a member's BuyReward (bearer session; variables that are not one $input) -------------

BUY = (MEMBER_OPS / "BuyReward.graphql").read_text()


def member_send(hub: Hub, query: str, variables: dict[str, Any],
                token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = hub.http.post("/graphql", content=gql_body(query, variables),
                             headers={**headers, "Content-Type": "application/json"})
    return response.status_code, response.content


def test_a_purchase_answers_the_same_bytes_both_ways(hub: Hub, lean_calls: list[str]) -> None:
    reward = publish(hub, "shop", stock=5)
    _, token = funded_member(hub)
    for first, then in ((BUY, BUY + GENERAL), (BUY + GENERAL, BUY)):
        variables = {"rewardId": reward, "idempotencyKey": str(uuid.uuid4())}
        bought = member_send(hub, first, variables, token)
        assert bought == member_send(hub, then, variables, token)  # the replay, the other way
        assert bought[0] == 200 and b'"userErrors":[]' in bought[1]
        assert b'"status":"ISSUED"' in bought[1] and b'"codeQrSvg":"<svg' in bought[1]
    assert lean_calls == ["BuyReward", "BuyReward"]
    assert verify(hub.db) == []


def test_every_purchase_refusal_answers_the_same(hub: Hub, lean_calls: list[str]) -> None:
    reward = publish(hub, "shop", stock=1, pricePoints=300)
    _, poor = funded_member(hub, 100)
    _, rich = funded_member(hub, 1000)
    key = str(uuid.uuid4())
    assert b'"userErrors":[]' in member_send(hub, BUY, {"rewardId": reward,
                                                        "idempotencyKey": key}, rich)[1]
    cases = [(poor, reward, str(uuid.uuid4()), "INSUFFICIENT_POINTS"),
             (rich, reward, str(uuid.uuid4()), "OUT_OF_STOCK"),
             (rich, "nope", str(uuid.uuid4()), "REWARD_NOT_FOUND"),
             (rich, publish(hub, "shop"), key, "IDEMPOTENCY_KEY_REUSED"),
             (rich, reward, "a\tb", "IDEMPOTENCY_KEY_INVALID"),
             (rich, reward, " ", "IDEMPOTENCY_KEY_MISSING")]
    for token, reward_id, idempotency_key, code in cases:
        before = hub.ledger_counts()
        variables = {"rewardId": reward_id, "idempotencyKey": idempotency_key}
        lean = member_send(hub, BUY, variables, token)
        assert lean == member_send(hub, BUY + GENERAL, variables, token)
        assert f'"code":"{code}"'.encode() in lean[1], lean
        assert hub.ledger_counts() == before
    assert lean_calls == ["BuyReward"] * 7


@pytest.mark.parametrize("variables", [
    {"rewardId": 7, "idempotencyKey": "a"},  # an ID as a number
    {"rewardId": "UmV3YXJkOjE="},  # a variable left out
    {"rewardId": None, "idempotencyKey": "a"},  # null for a non-null variable
    {"input": {"rewardId": "UmV3YXJkOjE=", "idempotencyKey": "a"}},  # as another operation
])
def test_purchase_variables_graphql_core_would_convert_or_refuse_take_the_general_path(
        hub: Hub, lean_calls: list[str], variables: dict[str, Any]) -> None:
    _, token = funded_member(hub)
    assert member_send(hub, BUY, variables, token) == member_send(hub, BUY + GENERAL,
                                                                  variables, token)
    assert lean_calls == []


def test_only_a_member_buys_on_the_lean_path(hub: Hub, lean_calls: list[str]) -> None:
    """Signed by a partner, or with no credential: graphql-core's own refusal."""
    variables = {"rewardId": publish(hub, "shop"), "idempotencyKey": "a"}
    unsigned = member_send(hub, BUY, variables, None)
    assert unsigned == member_send(hub, BUY + GENERAL, variables, None)
    assert b"FORBIDDEN" in unsigned[1]
    signed = post_signed(hub, gql_body(BUY, variables), idempotency_key=str(uuid.uuid4()))
    assert signed.status_code == 200 and b"FORBIDDEN" in signed.content
    assert lean_calls == []


def test_a_purchase_error_answers_the_same(hub: Hub, lean_calls: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the catalog is on fire")

    monkeypatch.setattr(rewards_buy, "buy_named", broken)
    _, token = funded_member(hub)
    variables = {"rewardId": publish(hub, "shop"), "idempotencyKey": "a"}
    lean = member_send(hub, BUY, variables, token)
    assert lean == member_send(hub, BUY + GENERAL, variables, token)
    assert lean[1].startswith(b'{"data":{"buyReward":null},"errors":[{"message":"internal')
    assert lean_calls == ["BuyReward"]
