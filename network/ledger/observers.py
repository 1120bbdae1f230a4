"""Who else hears of a booking, inside the booking's own transaction.

Partner webhooks (partners/webhooks/) must write their event in the same transaction as the ledger
write it reports, so that a crash never loses an event nor invents one; the network cannot import
partners, so it keeps this small registry and the partners' package registers itself here.

- `listening(scope, operation)` runs before the transaction and reads nothing: the observer says
  whether this kind of booking by this caller could concern it at all (a partner's earn: yes; a
  member's transfer: no). Each listener it returns runs INSIDE the transaction, after the booking
  and before COMMIT, with what was booked, and decides there, from the database, whether anyone
  wants it (a replay of a stored answer is not a booking and runs nothing).
- The PostgreSQL one-statement earn (pg_writer) has no room for a listener, so an observer also
  gives an SQL condition, true when nobody listens to this earn (`earn_guard`), that the
  statement checks in the same snapshot as everything else: nobody listening costs the earn no
  statement and no round trip; somebody listening makes the statement book nothing and the
  writer's `book` book the earn, listener included. Nothing is cached, so nothing can be
  stale: an endpoint created a moment ago in another process is heard from its COMMIT on.

The seams call it: `idempotent.run` (every ledger operation), `bulk_earn.earn_batch` (each line
a batch books), `members.enrol`, and `stores.EarnWriter.earn` (the guard, and the listener when the
statement hands the earn over).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection


@dataclass(frozen=True)
class Booking:
    """What was just booked: the caller's scope ("partner:12"), the operation ("earn", "redeem",
    "capture", "reverse_earn", "enrol"…), its stored answer (a receipt's dict; enrol's
    {"member_id"}), the reference the caller gave, and the booking's time."""

    scope: str
    operation: str
    answer: Mapping[str, Any]
    reference: str | None
    at: datetime


# Given every booking of one transaction at once (a batch books up to 1,000 earns), so that a
# listener reads what it needs once per transaction, not once per line; and as a function that
# builds them, called only by a listener that found someone who wants them.
Bookings = Callable[[], list[Booking]]
Listener = Callable[[Connection, Bookings], None]


@dataclass(frozen=True)
class Observer:
    # (scope, operation) -> the listener to run in the transaction, or None; reads nothing.
    listener: Callable[[str, str], Listener | None]
    # An SQL condition for the one-statement earn (pg_writer), true when nobody listens to it;
    # `guard_params(scope, kind)` gives its parameters (names of its own, prefixed `guard_`).
    earn_guard: str
    guard_params: Callable[[str, str], Mapping[str, Any]]


_observers: list[Observer] = []


def observe(observer: Observer) -> None:
    """Register once per process (importing the observer's module does it); idempotent."""
    if observer not in _observers:
        _observers.append(observer)


def listening(scope: str, operation: str) -> list[Listener]:
    """The listeners to run in this operation's transaction (see the module's docstring)."""
    return [listener for observer in _observers
            if (listener := observer.listener(scope, operation)) is not None]


def earn_guard(scope: str, kind: str) -> tuple[str, dict[str, Any]]:
    """The condition the one-statement earn must meet ("true" when nobody observes), and its
    parameters."""
    wanted = [o for o in _observers if o.listener(scope, kind) is not None]
    if not wanted:
        return "true", {}
    params: dict[str, Any] = {}
    for observer in wanted:
        params.update(observer.guard_params(scope, kind))
    return " AND ".join(f"({o.earn_guard})" for o in wanted), params


def tell(conn: Connection, listeners: list[Listener], bookings: Bookings) -> None:
    for listener in listeners:
        listener(conn, bookings)
