"""Who else hears of a booking, inside the booking's own transaction.

Partner webhooks (partners/webhooks/) must write their event in the same transaction as the ledger
write it reports, so that a crash never loses an event nor invents one; the network cannot import
partners, so it keeps this small registry and the partners' package registers itself here.

Two steps, so that nobody pays for what nobody wants:
- `listening(db, scope, operation)` runs BEFORE the transaction and must cost no statement in the
  common case (an observer answers from an in-process cache). It decides whether the PostgreSQL
  one-statement earn may be used: that statement has no room for anyone else's writes, so an earn
  somebody listens to takes the general path.
- each listener it returned runs INSIDE the transaction, after the booking and before COMMIT,
  with what was booked (a replay of a stored answer is not a booking and runs nothing).

The seams call it: `idempotent.run` (every ledger operation), `bulk_earn.earn_batch` (each line
a batch books) and `members.enrol`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from network.db.engine import Database


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


Listener = Callable[[Connection, Booking], None]
# (db, scope, operation) -> the listener to run in the transaction, or None (no statement spent).
Observer = Callable[[Database, str, str], Listener | None]

_observers: list[Observer] = []


def observe(observer: Observer) -> None:
    """Register once per process (importing the observer's module does it); idempotent."""
    if observer not in _observers:
        _observers.append(observer)


def listening(db: Database, scope: str, operation: str) -> list[Listener]:
    """The listeners for this operation, decided before its transaction (see the docstring)."""
    if not _observers:
        return []
    return [listener for observer in _observers
            if (listener := observer(db, scope, operation)) is not None]


def tell(conn: Connection, listeners: list[Listener], booking: Booking) -> None:
    for listener in listeners:
        listener(conn, booking)
