"""Registered custom event types: the network's standard ones and partners' own.

A type is registered once and never changes: events already recorded were checked against its
spec, and a campaign reading `rating >= 4` must mean the same thing next year. A partner may
record events of the network's types and of its own, not of another partner's (to it they do not
exist: UNKNOWN_EVENT_TYPE). Codes are unique across the network, because campaigns' triggers
name a type by its code alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select
from sqlalchemy.exc import IntegrityError

from network.clock import as_utc
from network.db.engine import RetryableConflict
from network.programme import event_specs
from network.programme.event_specs import AttributeSpec, EventTypeExists, UnknownEventType
from network.programme.schema import event_types


@dataclass(frozen=True)
class EventType:
    id: int
    code: str
    owner_party_id: int | None  # None: the network's own
    spec: AttributeSpec
    created_at: datetime


def _from_row(row: Any) -> EventType:
    return EventType(row.id, row.code, row.owner_party_id,
                     event_specs.parse_spec(row.attribute_spec), as_utc(row.created_at))


def visible_to(conn: Connection, code: str, partner_id: int | None,
               field: str = "type") -> EventType:
    """The type `code` as `partner_id` may use it (the network's or its own; None: any type,
    for staff), else UNKNOWN_EVENT_TYPE."""
    query = select(event_types).where(event_types.c.code == code)
    if partner_id is not None:
        query = query.where(or_(event_types.c.owner_party_id.is_(None),
                                event_types.c.owner_party_id == partner_id))
    row = conn.execute(query).first()
    if row is None:
        raise UnknownEventType(f"no event type {code!r}; register it first (registerEventType)",
                               field=field)
    return _from_row(row)


def listed(conn: Connection, partner_id: int | None = None) -> list[EventType]:
    """Every type (staff), or those a partner may use: the network's and its own."""
    query = select(event_types).order_by(event_types.c.code)
    if partner_id is not None:
        query = query.where(or_(event_types.c.owner_party_id.is_(None),
                                event_types.c.owner_party_id == partner_id))
    return [_from_row(row) for row in conn.execute(query)]


def codes(conn: Connection) -> frozenset[str]:
    """Every registered code: what campaign validation accepts as an event trigger."""
    return frozenset(conn.execute(select(event_types.c.code)).scalars())


def add(conn: Connection, *, code: str, owner_party_id: int | None, spec: AttributeSpec,
        now: datetime) -> EventType:
    """Register a type (inputs already checked by event_specs); EVENT_TYPE_EXISTS if the code is
    taken, by anyone."""
    if conn.execute(select(event_types.c.id).where(event_types.c.code == code)).first():
        raise EventTypeExists(f"an event type {code!r} already exists; choose another code",
                              field="code")
    try:
        new_id = conn.execute(insert(event_types).values(
            code=code, owner_party_id=owner_party_id, attribute_spec=spec.as_json(),
            created_at=now).returning(event_types.c.id)).scalar_one()
    except IntegrityError as exc:  # registered by someone else since our check: run again
        if getattr(exc.orig, "sqlstate", None) == "23505":
            raise RetryableConflict("this event type code was just registered") from exc
        raise
    return EventType(new_id, code, owner_party_id, spec, now)


def install_standard(conn: Connection, now: datetime) -> list[str]:
    """Put back any of the network's standard types that are missing (the migration inserts
    them; an emptied database, a test's, has none). Returns the codes added."""
    have = codes(conn)
    added = []
    for code, raw in event_specs.STANDARD.items():
        if code not in have:
            add(conn, code=code, owner_party_id=None, spec=event_specs.parse_spec(raw), now=now)
            added.append(code)
    return added
