"""Writing a message into the outbox, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from network.notifications.schema import notification_outbox

Channel = Literal["email", "sms"]
CHANNELS: tuple[str, ...] = ("email", "sms")


def enqueue(
    conn: Connection,
    *,
    channel: Channel,
    recipient: str,
    subject: str,
    body: str,
    now: dt.datetime,
    member_id: int | None = None,
    kind: str | None = None,
    html_body: str | None = None,
    unsubscribe_url: str | None = None,
    not_before: dt.datetime | None = None,
) -> int:
    """Queue one message; it goes out only if the caller's transaction commits.

    `kind` (network/notifications/preferences.KINDS) lets the drainer check the member's
    preferences again before sending; None is transactional (sign-in codes, security notices).
    `not_before` holds the message (quiet hours) without counting an attempt."""
    values = row(channel=channel, recipient=recipient, subject=subject, body=body, now=now,
                 member_id=member_id, kind=kind, html_body=html_body,
                 unsubscribe_url=unsubscribe_url, not_before=not_before)
    result = conn.execute(insert(notification_outbox).values(**values)
                          .returning(notification_outbox.c.id))
    return int(result.scalar_one())


def row(*, channel: str, recipient: str, subject: str, body: str, now: dt.datetime,
        member_id: int | None, kind: str | None, html_body: str | None,
        unsubscribe_url: str | None, not_before: dt.datetime | None) -> dict[str, object]:
    """The outbox row `enqueue` writes (column -> value), for a writer that sends its own
    INSERT (network/programme/pg_buy.py)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown notification channel {channel!r}")
    return {"member_id": member_id, "channel": channel, "recipient": recipient,
            "subject": subject, "body": body, "status": "pending", "attempts": 0,
            "created_at": now,
            "next_attempt_at": max(now, not_before) if not_before is not None else now,
            "kind": kind, "html_body": html_body, "unsubscribe_url": unsubscribe_url}
