"""Draining the outbox: claim due rows, send them outside any transaction, record the outcome.

Claiming sets a lease (`next_attempt_at` pushed forward) so two drainers never send the same row
at once, and a drainer that dies mid-send leaves a row that is retried when the lease runs out.
A batch is sent one message after another, so each message is taken again (its lease renewed,
only if it is still ours) right before it is sent: a slow relay must not let the lease of the
batch's tail run out and another drainer send it as well. Delivery is therefore at least once;
the row id travels with each message for deduplication.

Taking a message is also where the member's preferences are asked again (`preferences.may_send`):
a member may have opted out, or quiet hours may have begun, since it was queued. A held message
goes back to the queue until the quiet hours end, without counting an attempt; a message the
member no longer wants is marked `dropped` and its body wiped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from network.notifications import preferences
from network.notifications.schema import notification_outbox as box
from network.notifications.senders import Message, Sender, SendError

# Longer than one send can take (SMTP: a few round trips, each bounded by SMTP_TIMEOUT).
LEASE = dt.timedelta(minutes=2)

log = logging.getLogger("pointsnet.notifications")


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    dropped: int = 0


def _claim(conn: Connection, now: dt.datetime, limit: int,
           max_attempts: int = 8) -> list[Message]:
    # A row whose attempts are used up but still pending was claimed by a drainer that died
    # mid-send (killed, out of memory) every time: give it up rather than retry it forever.
    conn.execute(
        update(box)
        .where(box.c.status == "pending", box.c.next_attempt_at <= now,
               box.c.attempts >= max_attempts)
        .values(status="failed", recipient=None, body=None, html_body=None,
                last_error="gave up: the drainer stopped during the last attempt")
    )
    rows = conn.execute(
        select(box.c.id, box.c.channel, box.c.recipient, box.c.subject, box.c.body,
               box.c.html_body, box.c.unsubscribe_url, box.c.kind, box.c.member_id)
        .where(box.c.status == "pending", box.c.next_attempt_at <= now,
               box.c.attempts < max_attempts)
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
    return [Message(r.id, r.channel, r.recipient or "", r.subject, r.body or "", r.html_body,
                    r.unsubscribe_url, r.kind, r.member_id) for r in rows]


def _take(conn: Connection, message_id: int, held_until: dt.datetime, now: dt.datetime,
          message: Message | None = None, network_zone: str = "UTC") -> str:
    """Renew the lease on one claimed row, only if nobody has claimed it since (the lease we
    set is the token: a new claim always moves it later); then ask the member's preferences.

    Answers "send", "lost" (another drainer has it), "held" or "dropped"."""
    result = conn.execute(
        update(box)
        .where(box.c.id == message_id, box.c.status == "pending",
               box.c.next_attempt_at == held_until)
        .values(next_attempt_at=now + LEASE)
    )
    if result.rowcount != 1:
        return "lost"
    if message is None or preferences.category_of(message.kind) == "transactional":
        return "send"
    prefs = (preferences.load(conn, message.member_id, network_zone)
             if message.member_id is not None
             else preferences.Preferences(network_zone=network_zone))
    decision = preferences.may_send(message.kind, message.channel, prefs, now)
    if isinstance(decision, preferences.Hold):
        conn.execute(update(box).where(box.c.id == message_id)
                     .values(next_attempt_at=decision.until, attempts=box.c.attempts - 1))
        return "held"
    if isinstance(decision, preferences.Drop):
        conn.execute(update(box).where(box.c.id == message_id)
                     .values(status="dropped", recipient=None, body=None, html_body=None,
                             last_error=f"not sent: {decision.reason}"))
        return "dropped"
    return "send"


def _mark_sent(conn: Connection, message_id: int, now: dt.datetime) -> None:
    conn.execute(
        update(box)
        .where(box.c.id == message_id)
        .values(status="sent", sent_at=now, recipient=None, body=None, html_body=None,
                last_error=None)
    )


def _mark_failed(conn: Connection, message_id: int, now: dt.datetime, error: str,
                 max_attempts: int) -> bool:
    """Back off exponentially; give up (and wipe the secret body) after `max_attempts`."""
    attempts = conn.execute(select(box.c.attempts).where(box.c.id == message_id)).scalar_one()
    if attempts >= max_attempts:
        conn.execute(update(box).where(box.c.id == message_id)
                     .values(status="failed", recipient=None, body=None, html_body=None,
                             last_error=error[:500]))
        return True
    delay = dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
    conn.execute(update(box).where(box.c.id == message_id)
                 .values(next_attempt_at=now + delay, last_error=error[:500]))
    return False


def drain(db, sender: Sender, now: Callable[[], dt.datetime], *, batch: int = 50,
          max_attempts: int = 8, network_zone: str | None = None) -> DrainReport:
    """Send every message due now, batch by batch, until none is left. `network_zone` is whose
    quiet hours apply to a member who chose no zone (default: POINTSNET_TIMEZONE)."""
    if network_zone is None:
        from network.config import get_settings
        network_zone = get_settings().timezone
    report = DrainReport()
    while True:
        claimed_at = now()
        messages = db.write(_claim, claimed_at, batch, max_attempts)
        if not messages:
            return report
        for message in messages:
            # One more short write per message, cheap next to an SMTP or HTTP round trip.
            taken_at = now()
            taken = db.write(_take, message.id, claimed_at + LEASE, taken_at, message,
                             network_zone)
            if taken == "held":
                report.held += 1
            elif taken == "dropped":
                report.dropped += 1
            if taken != "send":
                continue  # lost: our lease ran out and another drainer has claimed it since
            try:
                sender.send(message)
            except SendError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the queue
                log.exception("sending notification %s failed unexpectedly", message.id)
                error = f"{type(exc).__name__}: {exc}"
            else:
                db.write(_mark_sent, message.id, now())
                report.sent += 1
                continue
            if message.recipient:  # relays quote the address; the row must not keep it
                error = error.replace(message.recipient, "<recipient>")
            if db.write(_mark_failed, message.id, now(), error, max_attempts):
                report.failed += 1
            else:
                report.retried += 1
        if len(messages) < batch:
            return report
