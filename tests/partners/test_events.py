"""Custom events over signed HTTP through the ASGI app: recordEvent and registerEventType, their
idempotency, every userError, and nothing written on a refusal (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from graphene import relay
from sqlalchemy import func, select

from network import cards
from network.clock import utcnow
from network.db.schema import idempotency_keys
from network.ledger.errors import InvalidInput
from network.programme import event_types, events
from network.programme.schema import event_types as event_types_table
from network.programme.schema import member_events
from partners.keys import create_key
from tests.partners.conftest import Hub, error_code, gql_body, operation, post_signed


@pytest.fixture
def hub_events(any_hub: Hub) -> Iterator[Hub]:
    """The hub with the network's standard event types (an emptied test database has none)."""
    any_hub.db.write(lambda conn: event_types.install_standard(conn, utcnow()))
    yield any_hub


def _counts(hub: Hub) -> tuple[int, int, int]:
    """Events, event types and remembered keys: what a refused request must leave unchanged."""
    return hub.db.read(lambda conn: tuple(  # type: ignore[return-value]
        conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (member_events, event_types_table, idempotency_keys)))


def _record(client: Any, key: str | None = None, **fields: Any) -> dict[str, Any]:
    answer = client.execute(operation("RecordEvent"), {"input": fields}, idempotency_key=key)
    return answer["data"]["recordEvent"]


def _register(client: Any, key: str | None = None, **fields: Any) -> dict[str, Any]:
    answer = client.execute(operation("RegisterEventType"), {"input": fields},
                            idempotency_key=key)
    return answer["data"]["registerEventType"]


def test_record_a_review_once_per_key(hub_events: Hub) -> None:
    member = hub_events.enrol()
    at = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    with hub_events.client() as client:
        first = _record(client, "review-1", cardNumber=member.card_number, type="review",
                        attributes={"rating": 5, "sku": "LATTE-L"},
                        occurredAt=at.isoformat())
        assert first["userErrors"] == []
        event = first["event"]
        assert event["type"] == "review"
        assert event["memberId"] == relay.Node.to_global_id("PartnerMember", member.id)
        assert event["attributes"] == {"rating": 5, "sku": "LATTE-L"}
        assert event["occurredAt"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
        before = _counts(hub_events)
        again = _record(client, "review-1", cardNumber=member.card_number, type="review",
                        attributes={"rating": 5, "sku": "LATTE-L"},
                        occurredAt=at.isoformat())
        assert again == first  # the first answer, nothing written
        assert _counts(hub_events) == before
        other = _record(client, "review-1", cardNumber=member.card_number, type="review",
                        attributes={"rating": 4}, occurredAt=at.isoformat())
        assert other["event"] is None
        assert other["userErrors"] == [{
            "field": "Idempotency-Key", "code": "IDEMPOTENCY_KEY_REUSED",
            "message": "this idempotency key was already used for a different request"}]
        assert _counts(hub_events) == before
    row = hub_events.db.read(lambda c: c.execute(
        select(member_events).where(member_events.c.kind == "event")).one())
    assert (row.member_id, row.partner_id, row.kind, row.type) == (
        member.id, hub_events.partners["cafe"].party_id, "event", "review")
    assert row.attributes == {"rating": 5, "sku": "LATTE-L"}
    assert (row.scope, row.idempotency_key) == (
        f"partner:{hub_events.partners['cafe'].party_id}", "review-1")


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"type": "unboxing", "attributes": {}}, "UNKNOWN_EVENT_TYPE", "type"),
    ({"type": "review", "attributes": {}}, "INVALID_ATTRIBUTES", "attributes.rating"),
    ({"type": "review", "attributes": {"rating": 6}}, "INVALID_ATTRIBUTES", "attributes.rating"),
    ({"type": "review", "attributes": {"rating": "5"}}, "INVALID_ATTRIBUTES",
     "attributes.rating"),
    ({"type": "review", "attributes": {"rating": 4.0}}, "INVALID_ATTRIBUTES",
     "attributes.rating"),
    ({"type": "review", "attributes": {"rating": 4, "stars": 4}}, "INVALID_ATTRIBUTES",
     "attributes.stars"),
    ({"type": "review", "attributes": {"rating": 4, "hasText": "yes"}}, "INVALID_ATTRIBUTES",
     "attributes.hasText"),
    ({"type": "review", "attributes": [4]}, "INVALID_ATTRIBUTES", "attributes"),
    ({"type": "social_share", "attributes": {"network": "myspace"}}, "INVALID_ATTRIBUTES",
     "attributes.network"),
    ({"type": "survey_completed", "attributes": {"survey": "x" * 65}}, "INVALID_ATTRIBUTES",
     "attributes.survey"),
    ({"type": "app_install", "attributes": {"platform": "ios"}, "occurredAt":
      "2999-01-01T00:00:00+00:00"}, "INVALID_INPUT", "occurredAt"),
    ({"type": "app_install", "attributes": {"platform": "ios"}, "occurredAt":
      "2001-01-01T00:00:00+00:00"}, "INVALID_INPUT", "occurredAt"),
])
def test_record_event_refusals_write_nothing(hub_events: Hub, fields: dict[str, Any], code: str,
                                             field: str) -> None:
    member = hub_events.enrol()
    before = _counts(hub_events)
    with hub_events.client() as client:
        refused = _record(client, "k-1", cardNumber=member.card_number, **fields)
    assert refused["event"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [(code, field)]
    assert refused["userErrors"][0]["message"]
    assert _counts(hub_events) == before


def test_record_event_member_refusals(hub_events: Hub) -> None:
    before = _counts(hub_events)
    nobody = relay.Node.to_global_id("PartnerMember", 999_999)
    cases = [
        ({"cardNumber": cards.generate()}, "MEMBER_NOT_FOUND", "cardNumber"),
        ({"memberId": nobody}, "MEMBER_NOT_FOUND", "memberId"),
        ({"cardNumber": "7012345678901234"}, "INVALID_CARD_NUMBER", "cardNumber"),
        ({}, "MEMBER_REFERENCE", "memberId"),
        ({"memberId": "bm90LWFuLWlk"}, "INVALID_ID", "memberId"),
    ]
    with hub_events.client() as client:
        for ref, code, field in cases:
            refused = _record(client, "k-2", type="app_install",
                              attributes={"platform": "ios"}, **ref)
            assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [(code, field)], ref
    assert _counts(hub_events) == before
    # a refusal claimed nothing: the key still works once the request is right
    member = hub_events.enrol()
    with hub_events.client() as client:
        ok = _record(client, "k-2", memberId=relay.Node.to_global_id("PartnerMember", member.id),
                     type="app_install", attributes={"platform": "ios"})
    assert ok["userErrors"] == [] and ok["event"]["attributes"] == {"platform": "ios"}


def test_partners_register_their_own_types(hub_events: Hub) -> None:
    member = hub_events.enrol()
    spec = {"minutes": {"type": "integer", "required": True, "min": 1},
            "spent": {"type": "number", "max": 1000},
            "room": {"type": "string", "enum": ["lounge", "terrace"]}}
    with hub_events.client() as cafe:
        made = _register(cafe, "type-1", code="table_visit", attributes=spec)
        assert made["userErrors"] == []
        assert made["eventType"]["code"] == "table_visit"
        assert made["eventType"]["networkStandard"] is False
        assert made["eventType"]["attributes"] == {
            "minutes": {"type": "integer", "required": True, "min": 1},
            "spent": {"type": "number", "max": "1000"},
            "room": {"type": "string", "enum": ["lounge", "terrace"]}}
        before = _counts(hub_events)
        assert _register(cafe, "type-1", code="table_visit", attributes=spec) == made
        assert _counts(hub_events) == before
        recorded = _record(cafe, cardNumber=member.card_number, type="table_visit",
                           attributes={"minutes": 45, "spent": 12.5, "room": "terrace"})
        assert recorded["userErrors"] == []
        # numbers are exact decimals, answered as strings
        assert recorded["event"]["attributes"] == {"minutes": 45, "spent": "12.5",
                                                   "room": "terrace"}
        listed = cafe.execute(operation("EventTypes"))["data"]["partner"]["eventTypes"]
        assert [(t["code"], t["networkStandard"]) for t in listed] == [
            ("app_install", True), ("review", True), ("social_share", True),
            ("survey_completed", True), ("table_visit", False)]
        assert listed[1]["attributes"]["rating"] == {"type": "integer", "required": True,
                                                     "min": 1, "max": 5}
    with hub_events.client("shop") as shop:
        seen = shop.execute(operation("EventTypes"))["data"]["partner"]["eventTypes"]
        assert "table_visit" not in [t["code"] for t in seen] and len(seen) == 4
        before = _counts(hub_events)
        theirs = _record(shop, cardNumber=member.card_number, type="table_visit",
                         attributes={"minutes": 5})
        assert [(e["code"], e["field"]) for e in theirs["userErrors"]] == [
            ("UNKNOWN_EVENT_TYPE", "type")]  # another partner's type does not exist for shop
        taken = _register(shop, code="table_visit", attributes={})
        assert [(e["code"], e["field"]) for e in taken["userErrors"]] == [
            ("EVENT_TYPE_EXISTS", "code")]
        standard = _register(shop, code="review", attributes={})
        assert standard["userErrors"][0]["code"] == "EVENT_TYPE_EXISTS"
        assert _counts(hub_events) == before


@pytest.mark.parametrize(("code", "attributes", "error", "field"), [
    ("Visit", {}, "INVALID_EVENT_TYPE_CODE", "code"),
    ("v", {}, "INVALID_EVENT_TYPE_CODE", "code"),
    ("birthday", {}, "INVALID_EVENT_TYPE_CODE", "code"),
    ("visit", [], "INVALID_ATTRIBUTE_SPEC", "attributes"),
    ("visit", {"n": {"type": "float"}}, "INVALID_ATTRIBUTE_SPEC", "attributes.n.type"),
    ("visit", {"n": {"type": "integer", "min": 5, "max": 1}}, "INVALID_ATTRIBUTE_SPEC",
     "attributes.n.min"),
    ("visit", {"n": {"type": "string", "pattern": "a+"}}, "INVALID_ATTRIBUTE_SPEC",
     "attributes.n.pattern"),
    ("visit", {"n": {"type": "boolean", "enum": [True]}}, "INVALID_ATTRIBUTE_SPEC",
     "attributes.n.enum"),
    ("visit", {"n": {"type": "integer", "enum": [1, 9], "max": 5}}, "INVALID_ATTRIBUTE_SPEC",
     "attributes.n.enum.1"),
    ("visit", {"9n": {"type": "string"}}, "INVALID_ATTRIBUTE_SPEC", "attributes.9n"),
])
def test_register_event_type_refusals_write_nothing(hub_events: Hub, code: str, attributes: Any,
                                                    error: str, field: str) -> None:
    before = _counts(hub_events)
    with hub_events.client() as client:
        refused = _register(client, code=code, attributes=attributes)
    assert refused["eventType"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [(error, field)]
    assert _counts(hub_events) == before


def test_a_retry_gets_its_first_answer_after_the_window(hub_events: Hub) -> None:
    """occurredAt 89 days ago is accepted; the retry two days later is its first answer, not
    INVALID_INPUT (the till that lost the answer must not record the event again)."""
    member = hub_events.enrol()
    now = utcnow()
    at = now - timedelta(days=89)
    cafe = hub_events.partners["cafe"].party_id

    def send(key: str, when: Any) -> Any:
        return events.record_event(
            hub_events.db, scope=f"partner:{cafe}", idempotency_key=key, partner_id=cafe,
            member_id=member.id, member_field="memberId", type="app_install",
            attributes={"platform": "web"}, occurred_at=at, now=when)

    first = send("late-1", now)
    before = _counts(hub_events)
    assert send("late-1", now + timedelta(days=2)) == first
    with pytest.raises(InvalidInput) as refused:
        send("late-2", now + timedelta(days=2))
    assert refused.value.field == "occurredAt"
    assert _counts(hub_events) == before


def test_events_need_the_events_scope(hub_events: Hub) -> None:
    member = hub_events.enrol()
    key, pem = hub_events.db.write(lambda c: create_key(
        c, party_id=hub_events.partners["cafe"].party_id, now=utcnow(),
        scopes="read enrol earn redeem"))
    before = _counts(hub_events)
    for name, fields in (("RecordEvent", {"cardNumber": member.card_number, "type": "review",
                                          "attributes": {"rating": 5}}),
                         ("RegisterEventType", {"code": "visit", "attributes": {}})):
        body = gql_body(operation(name), {"input": fields})
        response = post_signed(hub_events, body, idempotency_key="k", key_pem=pem,
                               key_id=key.key_id)
        assert response.status_code == 403 and error_code(response) == "SCOPE_MISSING"
    assert _counts(hub_events) == before
