"""Webhook endpoints, events and deliveries in the database, and `emit`, the one way in.

`emit(conn, partner_id, type, data)` runs inside the transaction of whatever happened (the ledger
write, the enrolment, the settlement close, a coupon bought) and writes the event and one
delivery per endpoint that wants it, so the event exists exactly when what it reports does. It
reads the partner's endpoints in that transaction (one indexed query on a small table), so an
endpoint created, disabled or deleted a moment ago, in whatever process, is always obeyed.

The ledger's bookings reach it through network/ledger/observers.py (`OBSERVER`). The PostgreSQL
one-statement earn, where even that query would be a second round trip, checks the same thing
inside its own statement (`EARN_GUARD`): nobody listening costs the earn nothing.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from psycopg.types.numeric import Int8
from sqlalchemy import Connection, and_, func, insert, select, update

from network import idempotency
from network.clock import as_utc, utcnow
from network.db.engine import Database
from network.ledger import observers
from partners.webhooks import events as event_types
from partners.webhooks import signing
from partners.webhooks.errors import (
    InvalidWebhookUrl,
    TooManyWebhookEndpoints,
    UnknownWebhookEvent,
    WebhookDeliveryNotFound,
    WebhookEndpointDisabled,
    WebhookEndpointNotFound,
)
from partners.webhooks.schema import webhook_deliveries as deliveries
from partners.webhooks.schema import webhook_endpoints as endpoints
from partners.webhooks.schema import webhook_events as events_table

MAX_ENDPOINTS = 10  # per partner
MAX_URL = 2000
# http:// to this machine only where the operator allows it (development, tests, the demo):
# a partner must not make the hub call its own loopback services.
ALLOW_LOCAL_ENV = "POINTSNET_WEBHOOKS_ALLOW_LOCAL"


# -- emitting ---------------------------------------------------------------------------------

def emit(conn: Connection, partner_id: int, event_type: str, data: Mapping[str, Any], *,
         at: datetime | None = None) -> str | None:
    """Queue `event_type` for `partner_id`'s endpoints that want it, in the caller's
    transaction; the event's `webhook-id`, or None when no endpoint wants it (nothing written)."""
    if event_type not in event_types.EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    targets = _targets(conn, partner_id, event_type)
    if not targets:
        return None
    return _write_events(conn, partner_id, event_type, targets, [data], at or utcnow())[0]


def _targets(conn: Connection, partner_id: int, event_type: str) -> list[int]:
    """The partner's enabled endpoints that want `event_type`: one query on a small table."""
    return [row.id for row in conn.execute(
        select(endpoints.c.id, endpoints.c.events)
        .where(endpoints.c.partner_id == partner_id, endpoints.c.enabled.is_(True),
               endpoints.c.deleted_at.is_(None))
        .order_by(endpoints.c.id)) if event_type in row.events.split()]


def _write_events(conn: Connection, partner_id: int, event_type: str, targets: list[int],
                  data: list[Mapping[str, Any]], at: datetime) -> list[str]:
    """One event per `data` and a delivery per target endpoint; their webhook-ids."""
    if not data:
        return []
    at = as_utc(at)
    rows = [{"partner_id": partner_id, "msg_id": signing.new_msg_id(), "type": event_type,
             "body": event_types.body(event_type, item, at), "created_at": at} for item in data]
    ids = dict(conn.execute(insert(events_table).returning(events_table.c.msg_id,
                                                           events_table.c.id,
                                                           sort_by_parameter_order=True),
                            rows).tuples().all())
    conn.execute(insert(deliveries), [
        {"event_id": ids[row["msg_id"]], "endpoint_id": endpoint_id, "status": "pending",
         "attempts": 0, "next_attempt_at": at, "created_at": at}
        for row in rows for endpoint_id in targets])
    return [row["msg_id"] for row in rows]


def _listener(scope: str, operation: str) -> Callable[..., None] | None:
    """The ledger's bookings that could concern a partner's endpoint (observers.py): a
    partner's own operation of a kind that raises an event. Reads nothing."""
    event_type = event_types.OPERATION_EVENTS.get(operation)
    partner_id = event_types.partner_of(scope)
    if event_type is None or partner_id is None:
        return None

    def listener(conn: Connection, bookings: Callable[[], list[Any]]) -> None:
        targets = _targets(conn, partner_id, event_type)
        if not targets:
            return  # nobody wants it: the bookings are never even built
        booked = bookings()
        if booked:
            _write_events(conn, partner_id, event_type, targets,
                          [event_types.booking_data(booking) for booking in booked],
                          booked[0].at)

    return listener


# True when no enabled endpoint of the partner wants the event (events are space-separated).
EARN_GUARD = """NOT EXISTS (
    SELECT 1 FROM webhook_endpoints AS hook
    WHERE hook.partner_id = %(guard_webhook_partner)s AND hook.enabled
      AND hook.deleted_at IS NULL AND ' ' || hook.events || ' ' LIKE %(guard_webhook_event)s)"""


def _guard_params(scope: str, kind: str) -> dict[str, Any]:
    # Int8: one parameter type, one prepared statement (as pg_writer types its own).
    return {"guard_webhook_partner": Int8(event_types.partner_of(scope) or 0),
            "guard_webhook_event": f"% {event_types.OPERATION_EVENTS[kind]} %"}


OBSERVER = observers.Observer(listener=_listener, earn_guard=EARN_GUARD,
                              guard_params=_guard_params)


# -- endpoints --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    id: int
    partner_id: int
    url: str
    events: tuple[str, ...]
    signing: str
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted: bool
    public_key: str | None  # Ed25519: `whpk_…`, what the partner verifies with
    sealed_key: bytes = field(repr=False)  # signing.seal'd; see `key_text`

    def key_text(self, secret_key: str) -> str:
        """What the partner verifies with: the `whpk_…` public key, or the `whsec_…` secret
        (unsealed with POINTSNET_SECRET_KEY: only create and rotate answer it)."""
        return self.public_key or signing.secret_text(signing.unseal(secret_key,
                                                                     self.sealed_key))


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(id=row.id, partner_id=row.partner_id, url=row.url,
                    events=tuple(row.events.split()), signing=row.signing,
                    enabled=bool(row.enabled), disabled_reason=row.disabled_reason,
                    failing_since=as_utc(row.failing_since) if row.failing_since else None,
                    created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at),
                    deleted=row.deleted_at is not None, public_key=row.public_key,
                    sealed_key=bytes(row.secret))


def _new_key(secret_key: str, kind: str) -> dict[str, Any]:
    """The columns of a fresh signing key: sealed, and its public half for Ed25519."""
    raw = signing.new_key(kind)
    return {"secret": signing.seal(secret_key, raw),
            "public_key": signing.public_key_text(raw) if kind == signing.ED25519 else None}


def check_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > MAX_URL:
        raise InvalidWebhookUrl(f"the URL is at most {MAX_URL} characters", field="url")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise InvalidWebhookUrl("the URL must be https://host/path (no user or password in it)",
                                field="url")
    local = host == "localhost" or _is_internal(host)
    if local and os.environ.get(ALLOW_LOCAL_ENV) != "1":
        raise InvalidWebhookUrl("the hub does not call its own machine or private networks "
                                "(localhost, 10.x, 169.254.x…); use your server's public "
                                "https URL", field="url")
    if parts.scheme == "http" and not local:
        raise InvalidWebhookUrl("the URL must use https", field="url")
    return url


def _is_internal(host: str) -> bool:
    """An address literal of this machine or a private network (a name that resolves to one
    is not caught here: the network's egress rules are the place for that)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def check_events(wanted: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(item.strip() for item in wanted if item.strip()))
    unknown = [item for item in chosen if item not in event_types.EVENT_TYPES]
    if unknown or not chosen:
        raise UnknownWebhookEvent(
            f"{'unknown event type(s) ' + ', '.join(unknown) if unknown else 'no event type'}; "
            f"choose among {', '.join(event_types.EVENT_TYPES)}", field="events")
    return chosen


Then = Callable[[Connection, dict[str, Any]], None]


def _idempotent(db: Database, scope: str, key: str, operation: str, params: dict[str, Any],
                body: Callable[[Connection, datetime], dict[str, Any]],
                now: datetime | None, then: Then | None = None) -> dict[str, Any]:
    """Run `body` once per (scope, key); a replay gets the first answer (ids only: the caller
    reads the current state with them). `then(conn, answer)` runs after `body` in its
    transaction, not on a replay: the back office's audit entry, written exactly once."""
    idempotency.validate_key(key)
    digest = idempotency.request_hash(operation, params)

    def transaction(conn: Connection) -> dict[str, Any]:
        stored = idempotency.claim(conn, scope, key, digest)
        if stored is not None:
            return dict(stored)
        at = as_utc(now) if now is not None else utcnow()
        answer = body(conn, at)
        if then is not None:
            then(conn, answer)
        idempotency.remember(conn, scope, key, digest, answer, at)
        return answer

    return db.write(transaction)


def _owned(conn: Connection, partner_id: int | None, endpoint_id: int,
           lock: bool = False) -> Any:
    query = select(endpoints).where(endpoints.c.id == endpoint_id,
                                    endpoints.c.deleted_at.is_(None))
    if partner_id is not None:
        query = query.where(endpoints.c.partner_id == partner_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise WebhookEndpointNotFound("no webhook endpoint of yours has this id",
                                      field="endpointId")
    return row


def get_endpoint(conn: Connection, endpoint_id: int, partner_id: int | None = None) -> Endpoint:
    return _endpoint(_owned(conn, partner_id, endpoint_id))


def list_endpoints(conn: Connection, partner_id: int | None = None) -> list[Endpoint]:
    query = select(endpoints).where(endpoints.c.deleted_at.is_(None)).order_by(endpoints.c.id)
    if partner_id is not None:
        query = query.where(endpoints.c.partner_id == partner_id)
    return [_endpoint(row) for row in conn.execute(query)]


def create_endpoint(db: Database, *, scope: str, idempotency_key: str, partner_id: int,
                    url: str, events: Iterable[str], signing_kind: str, secret_key: str,
                    now: datetime | None = None, then: Then | None = None) -> Endpoint:
    """`secret_key`: POINTSNET_SECRET_KEY, which seals the endpoint's signing key."""
    url = check_url(url)
    chosen = check_events(events)
    if signing_kind not in signing.SIGNINGS:
        raise ValueError(f"signing is one of {', '.join(signing.SIGNINGS)}")

    def body(conn: Connection, at: datetime) -> dict[str, Any]:
        count = conn.execute(select(func.count()).select_from(endpoints).where(
            endpoints.c.partner_id == partner_id, endpoints.c.deleted_at.is_(None))).scalar_one()
        if count >= MAX_ENDPOINTS:
            raise TooManyWebhookEndpoints(
                f"a partner has at most {MAX_ENDPOINTS} webhook endpoints; delete one first",
                field="url")
        endpoint_id = conn.execute(insert(endpoints).values(
            partner_id=partner_id, url=url, events=" ".join(chosen), signing=signing_kind,
            **_new_key(secret_key, signing_kind), enabled=True, created_at=at, updated_at=at,
        ).returning(endpoints.c.id)).scalar_one()
        return {"endpoint_id": endpoint_id}

    answer = _idempotent(db, scope, idempotency_key, "create_webhook_endpoint",
                         {"url": url, "events": sorted(chosen), "signing": signing_kind},
                         body, now, then)
    return db.read(get_endpoint, int(answer["endpoint_id"]), partner_id)


def _cancel_pending(conn: Connection, endpoint_id: int, why: str) -> None:
    conn.execute(update(deliveries)
                 .where(deliveries.c.endpoint_id == endpoint_id,
                        deliveries.c.status == "pending")
                 .values(status="cancelled", last_error=why))


def update_endpoint(db: Database, *, scope: str, idempotency_key: str, partner_id: int | None,
                    endpoint_id: int, url: str | None = None,
                    events: Iterable[str] | None = None, enabled: bool | None = None,
                    now: datetime | None = None, then: Then | None = None) -> Endpoint:
    """Change what is given; enabling starts afresh (the failure clock reset), disabling
    cancels the pending deliveries (replay them after enabling)."""
    checked_url = check_url(url) if url is not None else None
    chosen = check_events(events) if events is not None else None

    def body(conn: Connection, at: datetime) -> dict[str, Any]:
        row = _owned(conn, partner_id, endpoint_id, lock=True)
        values: dict[str, Any] = {"updated_at": at}
        if checked_url is not None:
            values["url"] = checked_url
        if chosen is not None:
            values["events"] = " ".join(chosen)
        if enabled is True and not row.enabled:
            values.update(enabled=True, disabled_reason=None, failing_since=None)
        elif enabled is False and row.enabled:
            values.update(enabled=False, disabled_reason="disabled by request")
            _cancel_pending(conn, endpoint_id, "the endpoint was disabled")
        conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))
        return {"endpoint_id": endpoint_id}

    _idempotent(db, scope, idempotency_key, "update_webhook_endpoint",
                {"endpoint": endpoint_id, "url": checked_url,
                 "events": sorted(chosen) if chosen is not None else None, "enabled": enabled},
                body, now, then)
    return db.read(get_endpoint, endpoint_id, partner_id)


def rotate_secret(db: Database, *, scope: str, idempotency_key: str, partner_id: int | None,
                  endpoint_id: int, secret_key: str, now: datetime | None = None,
                  then: Then | None = None) -> Endpoint:
    """A new key; the previous one signs beside it for `signing.ROTATION_OVERLAP`."""
    def body(conn: Connection, at: datetime) -> dict[str, Any]:
        row = _owned(conn, partner_id, endpoint_id, lock=True)
        conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(
            **_new_key(secret_key, row.signing), previous_secret=row.secret,
            previous_until=at + signing.ROTATION_OVERLAP, updated_at=at))
        return {"endpoint_id": endpoint_id}

    _idempotent(db, scope, idempotency_key, "rotate_webhook_secret", {"endpoint": endpoint_id},
                body, now, then)
    return db.read(get_endpoint, endpoint_id, partner_id)


def delete_endpoint(db: Database, *, scope: str, idempotency_key: str, partner_id: int | None,
                    endpoint_id: int, now: datetime | None = None, then: Then | None = None
                    ) -> int:
    def body(conn: Connection, at: datetime) -> dict[str, Any]:
        _owned(conn, partner_id, endpoint_id, lock=True)
        conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(
            deleted_at=at, enabled=False, disabled_reason="deleted", updated_at=at))
        _cancel_pending(conn, endpoint_id, "the endpoint was deleted")
        return {"endpoint_id": endpoint_id}

    return int(_idempotent(db, scope, idempotency_key, "delete_webhook_endpoint",
                           {"endpoint": endpoint_id}, body, now, then)["endpoint_id"])


# -- deliveries -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint_id: int
    msg_id: str
    type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    replay_of: int | None
    body: str


def _delivery_query() -> Any:
    return (select(deliveries, events_table.c.msg_id, events_table.c.type, events_table.c.body,
                   events_table.c.partner_id)
            .join(events_table, events_table.c.id == deliveries.c.event_id))


def _delivery(row: Any) -> Delivery:
    def at(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return Delivery(id=row.id, endpoint_id=row.endpoint_id, msg_id=row.msg_id, type=row.type,
                    status=row.status, attempts=row.attempts,
                    next_attempt_at=at(row.next_attempt_at) if row.status == "pending" else None,
                    last_attempt_at=at(row.last_attempt_at), last_status=row.last_status,
                    last_error=row.last_error, delivered_at=at(row.delivered_at),
                    created_at=as_utc(row.created_at), replay_of=row.replay_of, body=row.body)


def list_deliveries(conn: Connection, endpoint_id: int, *, limit: int = 50,
                    before_id: int | None = None) -> list[Delivery]:
    """Newest first; `before_id` pages on."""
    query = _delivery_query().where(deliveries.c.endpoint_id == endpoint_id)
    if before_id is not None:
        query = query.where(deliveries.c.id < before_id)
    return [_delivery(row) for row in conn.execute(query.order_by(deliveries.c.id.desc())
                                                   .limit(limit))]


def get_delivery(conn: Connection, delivery_id: int, partner_id: int | None = None) -> Delivery:
    query = _delivery_query().where(deliveries.c.id == delivery_id)
    if partner_id is not None:
        query = query.where(events_table.c.partner_id == partner_id)
    row = conn.execute(query).first()
    if row is None:
        raise WebhookDeliveryNotFound("no webhook delivery of yours has this id",
                                      field="deliveryId")
    return _delivery(row)


def replay_delivery(db: Database, *, scope: str, idempotency_key: str, partner_id: int | None,
                    delivery_id: int, now: datetime | None = None,
                    then: Then | None = None) -> Delivery:
    """Send a delivery's event again to its endpoint, as a new delivery with the same
    `webhook-id` and body (the spec: a message resent keeps its id)."""
    def body(conn: Connection, at: datetime) -> dict[str, Any]:
        original = get_delivery(conn, delivery_id, partner_id)
        row = conn.execute(select(endpoints.c.enabled, endpoints.c.deleted_at)
                           .where(endpoints.c.id == original.endpoint_id)).one()
        if row.deleted_at is not None or not row.enabled:
            raise WebhookEndpointDisabled(
                "this delivery's endpoint is disabled or deleted; enable it first "
                "(updateWebhookEndpoint)", field="deliveryId")
        event_id = conn.execute(select(deliveries.c.event_id)
                                .where(deliveries.c.id == delivery_id)).scalar_one()
        new_id = conn.execute(insert(deliveries).values(
            event_id=event_id, endpoint_id=original.endpoint_id, replay_of=delivery_id,
            status="pending", attempts=0, next_attempt_at=at, created_at=at,
        ).returning(deliveries.c.id)).scalar_one()
        return {"delivery_id": new_id}

    answer = _idempotent(db, scope, idempotency_key, "replay_webhook_delivery",
                         {"delivery": delivery_id}, body, now, then)
    return db.read(get_delivery, int(answer["delivery_id"]), partner_id)


def pending_for(conn: Connection, partner_id: int) -> int:
    return int(conn.execute(
        select(func.count()).select_from(deliveries.join(
            events_table, and_(events_table.c.id == deliveries.c.event_id)))
        .where(events_table.c.partner_id == partner_id, deliveries.c.status == "pending")
    ).scalar_one())
