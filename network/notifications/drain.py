"""Draining the outbox: claim due rows, send them outside any transaction, record the outcome.

Claiming sets a lease (`next_attempt_at` pushed forward) so two drainers never send the same row
at once, and a drainer that dies mid-send leaves a row that is retried when the lease runs out.
Delivery is therefore at least once; the row id travels with each message for deduplication.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from network.notifications.schema import notification_outbox as box
from network.notifications.senders import Message, Sender, SendError

LEASE = dt.timedelta(minutes=2)


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _claim(conn: Connection, now: dt.datetime, limit: int) -> list[Message]:
    rows = conn.execute(
        select(box.c.id, box.c.channel, box.c.recipient, box.c.subject, box.c.body)
        .where(box.c.status == "pending", box.c.next_attempt_at <= now)
        .order_by(box.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        conn.execute(
            update(box)
            .where(box.c.id.in_([r.id for r in rows]))
            .values(attempts=box.c.attempts + 1, next_attempt_at=now + LEASE)
        )
    return [Message(r.id, r.channel, r.recipient or "", r.subject, r.body or "") for r in rows]


def _mark_sent(conn: Connection, message_id: int, now: dt.datetime) -> None:
    conn.execute(
        update(box)
        .where(box.c.id == message_id)
        .values(status="sent", sent_at=now, recipient=None, body=None, last_error=None)
    )


def _mark_failed(conn: Connection, message_id: int, now: dt.datetime, error: str,
                 max_attempts: int) -> bool:
    """Back off exponentially; give up (and wipe the secret body) after `max_attempts`."""
    attempts = conn.execute(select(box.c.attempts).where(box.c.id == message_id)).scalar_one()
    if attempts >= max_attempts:
        conn.execute(update(box).where(box.c.id == message_id)
                     .values(status="failed", body=None, last_error=error[:500]))
        return True
    delay = dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
    conn.execute(update(box).where(box.c.id == message_id)
                 .values(next_attempt_at=now + delay, last_error=error[:500]))
    return False


def drain(db, sender: Sender, now: Callable[[], dt.datetime], *, batch: int = 50,
          max_attempts: int = 8) -> DrainReport:
    """Send every message due now, batch by batch, until none is left."""
    report = DrainReport()
    while True:
        messages = db.write(_claim, now(), batch)
        if not messages:
            return report
        for message in messages:
            try:
                sender.send(message)
            except SendError as exc:
                if db.write(_mark_failed, message.id, now(), str(exc), max_attempts):
                    report.failed += 1
                else:
                    report.retried += 1
                continue
            db.write(_mark_sent, message.id, now())
            report.sent += 1
        if len(messages) < batch:
            return report
