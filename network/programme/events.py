"""Use cases for custom events: a partner records one, a partner or staff registers a type.

Each runs in one transaction with the partner's Idempotency-Key claimed in it (network/
idempotency.py), like every write: the same key and request answer the first result, a different
request under the key is IDEMPOTENCY_KEY_REUSED, and a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from network import idempotency
from network.db.engine import Database
from network.db.schema import members
from network.ledger.errors import InvalidInput, MemberNotFound
from network.programme import event_specs, event_types, inbox
from network.programme.event_types import EventType
from network.programme.facts import CustomEvent
from network.programme.inbox import RecordedFact

# How far an event's occurredAt may be from the hub's clock: a till's clock runs a little fast;
# a fact older than the window is history, not something campaigns should react to now.
FUTURE_SKEW = dt.timedelta(minutes=5)
OLDEST = dt.timedelta(days=90)


def check_occurred_at(occurred_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise InvalidInput("occurredAt needs a UTC offset (2026-06-05T10:00:00+03:30)",
                           field="occurredAt")
    if occurred_at > now + FUTURE_SKEW:
        raise InvalidInput("occurredAt is in the future", field="occurredAt")
    if occurred_at < now - OLDEST:
        raise InvalidInput(f"occurredAt is more than {OLDEST.days} days ago", field="occurredAt")
    return occurred_at.astimezone(dt.UTC)


def _require_member(conn: Connection, member_id: int, field: str) -> None:
    if conn.execute(select(members.c.id).where(members.c.id == member_id)).first() is None:
        raise MemberNotFound("no member with this id", field=field)


def record_event(db: Database, *, scope: str, idempotency_key: str, partner_id: int,
                 member_id: int, member_field: str, type: str, attributes: Any,
                 occurred_at: dt.datetime | None, now: dt.datetime,
                 timezone: str = "UTC") -> RecordedFact:
    """Record a partner's custom event: the type must be the network's or the partner's own,
    the attributes must pass its spec (INVALID_ATTRIBUTES naming `attributes.<name>`). The
    campaigns it triggers give their points in the same transaction (`RecordedFact.award`);
    `timezone` is the network's, where they read weekdays, hours and limit periods."""
    digest = idempotency.request_hash("record_event", {
        "member": member_id, "type": type, "attributes": attributes,
        "occurred_at": occurred_at.isoformat() if occurred_at else None})

    def transaction(conn: Connection) -> int:
        stored = idempotency.claim(conn, scope, idempotency_key, digest)
        if stored is not None:  # the first answer, even once occurredAt is out of the window
            return int(stored["event_id"])
        at = check_occurred_at(occurred_at, now)
        _require_member(conn, member_id, member_field)
        kind = event_types.visible_to(conn, type, partner_id)
        values = event_specs.check_attributes(kind.spec, attributes)
        recorded = inbox.record(conn, CustomEvent(type=type, partner_id=partner_id,
                                                  member_id=member_id, at=at, attributes=values),
                                scope=scope, key=idempotency_key, now=now, timezone=timezone)
        idempotency.remember(conn, scope, idempotency_key, digest, {"event_id": recorded.id}, now)
        return recorded.id

    event_id = db.write(transaction)
    found = db.read(inbox.get, event_id)
    assert found is not None
    return found


def register_type(db: Database, *, scope: str, idempotency_key: str, owner_party_id: int | None,
                  code: str, spec: Any, now: dt.datetime) -> EventType:
    """Register an event type owned by a partner (None: the network). Its code and spec are
    checked before anything is read (INVALID_EVENT_TYPE_CODE, INVALID_ATTRIBUTE_SPEC naming the
    rule); a taken code is EVENT_TYPE_EXISTS."""
    event_specs.check_code(code)
    parsed = event_specs.parse_spec(spec)
    digest = idempotency.request_hash("register_event_type", {
        "code": code, "owner": owner_party_id, "spec": parsed.as_json()})

    def transaction(conn: Connection) -> EventType:
        stored = idempotency.claim(conn, scope, idempotency_key, digest)
        if stored is not None:
            return event_types.visible_to(conn, str(stored["code"]), owner_party_id)
        added = event_types.add(conn, code=code, owner_party_id=owner_party_id, spec=parsed,
                                now=now)
        idempotency.remember(conn, scope, idempotency_key, digest, {"code": code}, now)
        return added

    return db.write(transaction)
