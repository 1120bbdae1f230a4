"""Partner webhooks end to end on PostgreSQL: endpoints managed over the signed API, events
written in the ledger's own transaction (and nothing when nobody listens: the one-statement earn
stays one statement), deliveries POSTed to a real HTTP receiver on 127.0.0.1 and checked with the
SDK's verifier, back-off, disabling, replay, rotation, and a drainer killed between sending and
recording."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from graphene import relay
from sqlalchemy import event, func, select

from network.clock import utcnow
from network.db.engine import Database
from network.ledger import (
    authorize_hold,
    capture_hold,
    earn,
    redeem,
    reverse_earn,
    reverse_redemption,
)
from network.ledger.errors import InsufficientPoints
from partners import webhooks
from partners.keys import create_key
from partners.webhooks import store
from partners.webhooks.delivery import LEASE, drain
from partners.webhooks.schema import webhook_deliveries, webhook_endpoints, webhook_events
from partners.webhooks.verify import SeenWebhooks, verify_webhook
from tests.partners.conftest import Hub, error_code, gql_body, operation, post_signed
from tests.support import ledger_world as w
from tests.support.webhook_receiver import Receiver, running_receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    yield from running_receiver(monkeypatch)


def _create(hub: Hub, receiver: Receiver, events: list[str], code: str = "cafe",
            signing: str = "HMAC_SHA256") -> dict[str, Any]:
    with hub.client(code) as client:
        answer = client.execute(operation("CreateWebhookEndpoint"), {"input": {
            "url": receiver.url, "events": events, "signing": signing}})
    payload = answer["data"]["createWebhookEndpoint"]
    assert payload["userErrors"] == []
    return payload


def _drain(hub: Hub, later: timedelta = timedelta()) -> Any:
    return drain(hub.db, lambda: utcnow() + later, secret_key=hub.settings.secret_key)


def _count(db: Database, table: Any) -> int:
    return db.read(lambda conn: conn.execute(select(func.count()).select_from(table))
                   .scalar_one())


def test_a_partners_endpoint_hears_of_its_enrolments_earns_and_redemptions(
        hub: Hub, receiver: Receiver) -> None:
    created = _create(hub, receiver, ["member.enrolled", "points.earned", "points.redeemed"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["endpoint"]["publicKey"] is None
    other = hub.enrol(by="shop")  # enrolled by the shop: nothing for the café
    with hub.client() as cafe, hub.client("shop") as shop:
        enrolled = cafe.execute(operation("EnrolMember"), {"input": {}})
        member = enrolled["data"]["enrolMember"]["member"]
        award = {"memberId": member["id"], "amount": 1000, "currency": "EUR"}
        cafe.execute(operation("AwardPoints"), {"input": {**award, "reference": "r-1"}})
        cafe.execute(operation("AwardPointsBatch"), {"input": {"lines": [
            {**award, "reference": "b-1"}, {**award, "reference": "b-2"},
            {"cardNumber": "0000000000000000", "amount": 1, "currency": "EUR"}]}})
        cafe.execute(operation("RedeemPoints"), {"input": {"memberId": member["id"],
                                                           "points": 50, "reference": "pay-1"}})
        shop.execute(operation("AwardPoints"), {"input": {
            "cardNumber": other.card_number, "amount": 1000, "currency": "EUR"}})
        replay = cafe.execute(operation("AwardPoints"), {"input": {**award, "reference": "r-1"}},
                              idempotency_key="same")
        cafe.execute(operation("AwardPoints"), {"input": {**award, "reference": "r-1"}},
                     idempotency_key="same")  # a replay books nothing and tells nobody
        assert replay["data"]["awardPoints"]["userErrors"] == []
    assert _count(hub.db, webhook_events) == 6
    report = _drain(hub)
    assert report.delivered == 6 and report.retried == 0
    events = [verify_webhook(r.headers, r.body, secret) for r in receiver.got]
    assert [(e["type"], e["data"].get("reference")) for e in events] == [
        ("member.enrolled", None), ("points.earned", "r-1"), ("points.earned", "b-1"),
        ("points.earned", "b-2"), ("points.redeemed", "pay-1"), ("points.earned", "r-1")]
    assert {e["data"]["memberId"] for e in events} == {member["id"]}
    assert events[1]["data"]["points"] == 100 and events[4]["data"]["points"] == 50
    assert all(r.headers["webhook-id"].startswith("msg_") for r in receiver.got)
    assert len({r.headers["webhook-id"] for r in receiver.got}) == 6
    # Nothing a member could be found by, nor the secret, travels or stays in a delivery.
    for r in receiver.got:
        assert b"cardNumber" not in r.body and secret.encode() not in r.body
    with hub.client() as cafe:
        seen = cafe.execute(operation("WebhookEndpoints"), {"first": 2})
    [endpoint] = seen["data"]["partner"]["webhookEndpoints"]
    page = endpoint["deliveries"]
    assert [e["node"]["status"] for e in page["edges"]] == ["DELIVERED", "DELIVERED"]
    assert page["edges"][0]["node"]["lastResponseStatus"] == 204
    assert page["pageInfo"]["hasNextPage"] is True


def test_nobody_listening_costs_the_one_statement_earn_nothing_more(
        pg_db: Database, hub: Hub, receiver: Receiver) -> None:
    """The earn's one statement checks for a listener itself: no query, no cache to go stale
    (an endpoint is obeyed from its COMMIT on, whichever process made it)."""
    cafe = hub.partners["cafe"]
    member = hub.enrol()
    statements: list[str] = []
    fast: list[str] = []
    original = pg_db.pg_statement

    def counted(sql: str, params: Any) -> Any:
        fast.append(sql)
        return original(sql, params)

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def one_earn(key: str) -> None:
        earn(pg_db, scope=f"partner:{cafe.party_id}", idempotency_key=key,
             issuer_id=cafe.party_id, member_id=member.id, points=10)

    one_earn("warm")  # the network party is cached from here on
    pg_db.pg_statement = counted  # type: ignore[method-assign]
    event.listen(pg_db.engine, "before_cursor_execute", seen)
    try:
        one_earn("quiet")
        assert (len(fast), statements) == (1, [])  # the earn's one statement, nothing else
        _create(hub, receiver, ["points.earned"], code="shop")  # another partner listens
        _create(hub, receiver, ["points.redeemed"])  # the café, to another event
        fast.clear(), statements.clear()
        one_earn("still-quiet")
        assert (len(fast), statements) == (1, [])
        _create(hub, receiver, ["points.earned"])
        fast.clear(), statements.clear()
        one_earn("heard")
        # The statement booked nothing; the general path booked the earn and its event.
        assert len(fast) == 1
        assert any("INSERT INTO webhook_events" in s for s in statements)
        fast.clear(), statements.clear()
        one_earn("heard")  # a replay: the statement answers it, nobody is told again
        assert (len(fast), statements) == (1, [])
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", seen)
        pg_db.pg_statement = original  # type: ignore[method-assign]
    assert _count(pg_db, webhook_events) == 1


def test_a_refused_or_rolled_back_operation_leaves_no_event(hub: Hub,
                                                            receiver: Receiver) -> None:
    _create(hub, receiver, ["points.redeemed", "coupon.bought"])
    cafe = hub.partners["cafe"]
    member = hub.enrol()
    with pytest.raises(InsufficientPoints):
        redeem(hub.db, scope=f"partner:{cafe.party_id}", idempotency_key="too-much",
               partner_id=cafe.party_id, member_id=member.id, points=10)

    class Crash(Exception):
        pass

    def coupon_then_crash(conn: Any) -> None:
        assert webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT,
                             {"couponId": "c-1"}) is not None
        raise Crash

    with pytest.raises(Crash):
        hub.db.write(coupon_then_crash)
    assert _count(hub.db, webhook_events) == 0 and _count(hub.db, webhook_deliveries) == 0
    # Committed, the same emit is one event and one delivery; a type nobody wants is nothing.
    msg_id = hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT,
                                                     {"couponId": "c-1"}))
    assert hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_USED,
                                                   {"couponId": "c-1"})) is None
    assert _drain(hub).delivered == 1
    assert receiver.got[0].headers["webhook-id"] == msg_id
    assert receiver.got[0].event["data"] == {"couponId": "c-1"}
    with pytest.raises(ValueError, match="unknown webhook event type"):
        hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, "coupon.eaten", {}))


def _deliveries(db: Database) -> list[Any]:
    return db.read(lambda conn: conn.execute(
        select(webhook_deliveries).order_by(webhook_deliveries.c.id)).all())


def _endpoint_row(db: Database) -> Any:
    return db.read(lambda conn: conn.execute(select(webhook_endpoints)).one())


def test_failures_back_off_with_jitter_and_a_success_resets_the_failure_clock(
        hub: Hub, receiver: Receiver) -> None:
    created = _create(hub, receiver, ["coupon.used"], signing="ED25519")
    public_key = created["endpoint"]["publicKey"]
    assert created["secret"] is None and public_key.startswith("whpk_")
    cafe = hub.partners["cafe"]
    hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_USED,
                                            {"couponId": "c-9"}))
    receiver.status = 500
    before = utcnow()
    report = _drain(hub)
    assert (report.delivered, report.retried) == (0, 1)
    [row] = _deliveries(hub.db)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (
        "pending", 1, 500, "HTTP 500")
    assert before + timedelta(seconds=5) <= row.next_attempt_at <= utcnow() + timedelta(
        seconds=10)
    assert _endpoint_row(hub.db).failing_since is not None
    assert _drain(hub).retried == 0  # not due yet
    receiver.status = 200
    assert _drain(hub, timedelta(seconds=11)).delivered == 1
    [row] = _deliveries(hub.db)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 2, 200)
    assert _endpoint_row(hub.db).failing_since is None
    # Each attempt was signed afresh with the endpoint's Ed25519 key; the body is the same.
    first, second = receiver.got
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    for got in receiver.got:
        assert got.headers["webhook-signature"].startswith("v1a,")
        verify_webhook(got.headers, got.body, public_key, tolerance=60)


def test_an_endpoint_failing_for_five_days_is_disabled_and_can_be_enabled_and_replayed(
        hub: Hub, receiver: Receiver) -> None:
    created = _create(hub, receiver, ["coupon.bought"])
    cafe = hub.partners["cafe"]
    for n in range(2):
        hub.db.write(lambda conn, n=n: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT,
                                                     {"couponId": f"c-{n}"}))
    receiver.status = 503
    assert _drain(hub).retried == 2
    assert _endpoint_row(hub.db).enabled is True
    report = _drain(hub, timedelta(days=5, minutes=1))
    assert report.disabled == 1
    endpoint = _endpoint_row(hub.db)
    assert (endpoint.enabled, endpoint.disabled_reason) == (
        False, "every attempt failed for 5 days")
    assert [d.status for d in _deliveries(hub.db)] == ["cancelled", "cancelled"]
    assert _drain(hub, timedelta(days=6)).delivered == 0  # nothing is sent to it any more
    delivery_id = relay.Node.to_global_id("WebhookDelivery", _deliveries(hub.db)[0].id)
    with hub.client() as client:
        refused = client.execute(operation("ReplayWebhookDelivery"),
                                 {"input": {"deliveryId": delivery_id}})
        assert [e["code"] for e in refused["data"]["replayWebhookDelivery"]["userErrors"]] == [
            "WEBHOOK_ENDPOINT_DISABLED"]
        enabled = client.execute(operation("UpdateWebhookEndpoint"), {"input": {
            "endpointId": created["endpoint"]["id"], "enabled": True}})
        assert enabled["data"]["updateWebhookEndpoint"]["endpoint"]["enabled"] is True
        replayed = client.execute(operation("ReplayWebhookDelivery"),
                                  {"input": {"deliveryId": delivery_id}})
    delivery = replayed["data"]["replayWebhookDelivery"]["delivery"]
    assert (delivery["status"], delivery["attempts"], delivery["replayOf"]) == (
        "PENDING", 0, delivery_id)
    receiver.status = 200
    got_before = len(receiver.got)
    assert _drain(hub).delivered == 1
    assert receiver.got[-1].headers["webhook-id"] == receiver.got[0].headers["webhook-id"]
    assert len(receiver.got) == got_before + 1
    assert verify_webhook(receiver.got[-1].headers, receiver.got[-1].body, created["secret"])


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(hub: Hub,
                                                             receiver: Receiver) -> None:
    created = _create(hub, receiver, ["coupon.bought"])
    with hub.client() as client:
        rotated = client.execute(operation("RotateWebhookSecret"), {"input": {
            "endpointId": created["endpoint"]["id"]}})["data"]["rotateWebhookSecret"]
    assert rotated["userErrors"] == [] and rotated["secret"] != created["secret"]
    # At rest both keys are sealed: the database alone holds neither secret's bytes.
    row = _endpoint_row(hub.db)
    for text in (created["secret"], rotated["secret"]):
        raw = base64.b64decode(text.removeprefix("whsec_"))
        assert raw not in bytes(row.secret) and raw not in bytes(row.previous_secret)
    cafe = hub.partners["cafe"]
    hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT, {}))
    _drain(hub)
    got = receiver.got[0]
    assert len(got.headers["webhook-signature"].split()) == 2
    for secret in (created["secret"], rotated["secret"]):
        verify_webhook(got.headers, got.body, secret)
    receiver.got.clear()
    hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT, {}))
    _drain(hub, timedelta(hours=25))
    got = receiver.got[0]
    assert len(got.headers["webhook-signature"].split()) == 1
    verify_webhook(got.headers, got.body, rotated["secret"], now=(
        utcnow() + timedelta(hours=25)).timestamp())


def test_refusals_are_field_keyed_and_write_nothing(hub: Hub, receiver: Receiver,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    created = _create(hub, receiver, ["points.earned"])
    endpoint_id = created["endpoint"]["id"]
    with hub.client() as cafe, hub.client("shop") as shop:
        def codes(client: Any, name: str, variables: dict[str, Any]) -> list[tuple[str, str]]:
            answer = client.execute(operation(name), {"input": variables})
            key = name[0].lower() + name[1:]
            return [(e["field"], e["code"]) for e in answer["data"][key]["userErrors"]]

        assert codes(cafe, "CreateWebhookEndpoint", {"url": "ftp://x.example/h",
                                                     "events": ["points.earned"]}) == [
            ("url", "INVALID_WEBHOOK_URL")]
        assert codes(cafe, "CreateWebhookEndpoint", {"url": "http://hooks.example/h",
                                                     "events": ["points.earned"]}) == [
            ("url", "INVALID_WEBHOOK_URL")]
        assert codes(cafe, "CreateWebhookEndpoint", {"url": "https://hooks.example/h",
                                                     "events": ["points.eaten"]}) == [
            ("events", "UNKNOWN_WEBHOOK_EVENT")]
        assert codes(cafe, "CreateWebhookEndpoint", {"url": "https://hooks.example/h",
                                                     "events": []}) == [
            ("events", "UNKNOWN_WEBHOOK_EVENT")]
        assert codes(shop, "UpdateWebhookEndpoint", {"endpointId": endpoint_id,
                                                     "enabled": False}) == [
            ("endpointId", "WEBHOOK_ENDPOINT_NOT_FOUND")]
        assert codes(shop, "DeleteWebhookEndpoint", {"endpointId": endpoint_id}) == [
            ("endpointId", "WEBHOOK_ENDPOINT_NOT_FOUND")]
        assert codes(cafe, "RotateWebhookSecret", {"endpointId": "nonsense"}) == [
            ("endpointId", "INVALID_ID")]
        for n in range(store.MAX_ENDPOINTS - 1):
            assert codes(cafe, "CreateWebhookEndpoint", {
                "url": f"https://hooks.example/{n}", "events": ["points.earned"]}) == []
        assert codes(cafe, "CreateWebhookEndpoint", {"url": "https://hooks.example/x",
                                                     "events": ["points.earned"]}) == [
            ("url", "TOO_MANY_WEBHOOK_ENDPOINTS")]
        seen = shop.execute(operation("WebhookEndpoints"))
        assert seen["data"]["partner"]["webhookEndpoints"] == []
    monkeypatch.delenv(store.ALLOW_LOCAL_ENV)
    with hub.client() as cafe:
        for internal in ("http://localhost:8080/", "https://127.0.0.1/", "https://10.0.0.7/",
                         "https://169.254.169.254/latest", "https://[::1]/"):
            assert codes(cafe, "UpdateWebhookEndpoint", {"endpointId": endpoint_id,
                                                         "url": internal}) == [
                ("url", "INVALID_WEBHOOK_URL")], internal
    assert _count(hub.db, webhook_endpoints) == store.MAX_ENDPOINTS


def test_a_key_without_the_webhooks_scope_cannot_touch_endpoints(hub: Hub) -> None:
    cafe = hub.partners["cafe"]
    key, pem = hub.db.write(lambda conn: create_key(conn, party_id=cafe.party_id, now=utcnow(),
                                                    scopes="read earn"))
    body = gql_body(operation("CreateWebhookEndpoint"), {"input": {
        "url": "https://hooks.example/h", "events": ["points.earned"]}})
    response = post_signed(hub, body, key_id=key.key_id, key_pem=pem,
                           idempotency_key="no-scope")
    assert response.status_code == 403 and error_code(response) == "SCOPE_MISSING"
    assert _count(hub.db, webhook_endpoints) == 0


def test_deleting_an_endpoint_cancels_what_it_had_pending(hub: Hub, receiver: Receiver) -> None:
    created = _create(hub, receiver, ["coupon.bought"])
    cafe = hub.partners["cafe"]
    hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT, {}))
    with hub.client() as client:
        deleted = client.execute(operation("DeleteWebhookEndpoint"), {"input": {
            "endpointId": created["endpoint"]["id"]}})["data"]["deleteWebhookEndpoint"]
    assert deleted == {"deletedEndpointId": created["endpoint"]["id"], "userErrors": []}
    assert [d.status for d in _deliveries(hub.db)] == ["cancelled"]
    assert hub.db.write(lambda conn: webhooks.emit(conn, cafe.party_id, webhooks.COUPON_BOUGHT,
                                                   {})) is None
    assert _drain(hub).delivered == 0 and receiver.got == []


DRAINER = """
import sys
from network.clock import utcnow
from network.db.engine import Database
from partners.webhooks.delivery import drain
print(drain(Database(sys.argv[1]), utcnow, secret_key=sys.argv[2], batch=10), flush=True)
"""


def test_a_drainer_killed_between_sending_and_recording_loses_nothing(
        hub: Hub, receiver: Receiver) -> None:
    """SIGKILL lands while the receiver holds the second request (sent, not yet answered, so
    not recorded): every event still arrives at least once, the second twice, and the
    partner's verifier handles each once by its webhook-id."""
    created = _create(hub, receiver, ["coupon.bought"])
    cafe = hub.partners["cafe"]
    msg_ids = [hub.db.write(lambda conn, n=n: webhooks.emit(
        conn, cafe.party_id, webhooks.COUPON_BOUGHT, {"couponId": f"c-{n}"})) for n in range(5)]
    proc = subprocess.Popen([sys.executable, "-c", DRAINER, hub.db.url,
                             hub.settings.secret_key], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})

    def kill_on_second(index: int) -> None:
        if index == 2:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    receiver.on_request = kill_on_second
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    receiver.on_request = None
    statuses = [(d.status, d.attempts) for d in _deliveries(hub.db)]
    assert statuses == [("delivered", 1), ("pending", 1), ("pending", 1), ("pending", 1),
                        ("pending", 1)]
    assert _drain(hub).delivered == 0  # the dead drainer's leases still hold them
    assert _drain(hub, LEASE + timedelta(seconds=1)).delivered == 4
    received = [r.headers["webhook-id"] for r in receiver.got]
    assert received == [msg_ids[0], msg_ids[1], msg_ids[1], *msg_ids[2:]]
    seen, handled = SeenWebhooks(), []
    for got in receiver.got:
        event_body = verify_webhook(got.headers, got.body, created["secret"], tolerance=600)
        if seen.first_time(got.headers["webhook-id"]):
            handled.append(event_body["data"]["couponId"])
    assert handled == [f"c-{n}" for n in range(5)]
    assert [d.status for d in _deliveries(hub.db)] == ["delivered"] * 5


def test_a_batch_reads_the_endpoints_once_whatever_its_size(pg_db: Database, hub: Hub,
                                                            receiver: Receiver) -> None:
    member = hub.enrol()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def batch(client: Any, size: int) -> None:
        answer = client.execute(operation("AwardPointsBatch"), {"input": {"lines": [
            {"memberId": relay.Node.to_global_id("PartnerMember", member.id), "amount": 100,
             "currency": "EUR", "reference": f"line-{n}"} for n in range(size)]}})
        assert all(r["userErrors"] == [] for r in answer["data"]["awardPointsBatch"]["results"])

    event.listen(pg_db.engine, "before_cursor_execute", seen)
    try:
        with hub.client() as cafe:
            batch(cafe, 40)
            assert sum("FROM webhook_endpoints" in s for s in statements) == 1
            _create(hub, receiver, ["points.earned"])
            statements.clear()
            batch(cafe, 40)
            assert sum("FROM webhook_endpoints" in s for s in statements) == 1
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", seen)
    assert _count(pg_db, webhook_events) == 40 and _count(pg_db, webhook_deliveries) == 40
    assert _drain(hub).delivered == 40
    assert [r.event["data"]["reference"] for r in receiver.got] == [
        f"line-{n}" for n in range(40)]


def test_holds_captures_and_reversals_raise_their_events_on_both_databases(
        db: Database, receiver: Receiver) -> None:
    """The ledger's seam, on SQLite too: capture is a redemption, a reversal is its own event,
    an authorisation or a void tells nobody."""
    cafe, member = w.partner(db, "cafe"), w.member(db)
    scope = f"partner:{cafe}"
    store.create_endpoint(db, scope=scope, idempotency_key="hook", partner_id=cafe,
                          url=receiver.url, signing_kind="hmac", secret_key="s",
                          events=["points.earned", "points.redeemed", "points.reversed"])
    earned = earn(db, scope=scope, idempotency_key="e", issuer_id=cafe, member_id=member,
                  points=100, reference="buy")
    hold = authorize_hold(db, scope=scope, idempotency_key="h", partner_id=cafe,
                          member_id=member, points=40)
    captured = capture_hold(db, scope=scope, idempotency_key="c", partner_id=cafe,
                            hold_id=hold.hold_id, points=30, reference="pay")
    reverse_redemption(db, scope=scope, idempotency_key="rr", partner_id=cafe,
                       entry_id=captured.entry_id, points=10, reference="refund-1")
    reverse_earn(db, scope=scope, idempotency_key="re", partner_id=cafe,
                 entry_id=earned.entry_id, points=5, reference="refund-2")
    bodies = db.read(lambda conn: [json.loads(r.body) for r in conn.execute(
        select(webhook_events.c.body).order_by(webhook_events.c.id))])
    assert [(b["type"], b["data"]["kind"], b["data"]["points"], b["data"]["reference"])
            for b in bodies] == [
        ("points.earned", "earn", 100, "buy"), ("points.redeemed", "capture", 30, "pay"),
        ("points.reversed", "reverse_redemption", 10, "refund-1"),
        ("points.reversed", "reverse_earn", 5, "refund-2")]
    assert bodies[1]["data"]["holdId"] == relay.Node.to_global_id("PartnerHold", hold.hold_id)
    assert drain(db, utcnow, secret_key="s").delivered == 4 and len(receiver.got) == 4
