"""Sending webhook deliveries: claim due ones, POST each outside any transaction, record it.

At least once, like the notification outbox (network/notifications/drain.py): a claim is a lease
(`next_attempt_at` pushed `LEASE` ahead, attempts counted at the claim), a drainer that dies
between sending and recording leaves the delivery to be sent again once the lease runs out, and
each delivery is taken again (its lease renewed, only if still ours) right before it is sent, so
a slow endpoint cannot let the tail of a batch fall to a second drainer. The receiver tells a
repeat by its `webhook-id` (partners/webhooks/verify.py, `SeenWebhooks`).

Each attempt is signed afresh (`webhook-timestamp` is the attempt's time, so a receiver's
freshness check passes on a retry days later); the body is the stored one, byte for byte.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Connection, select, update

from network.clock import as_utc
from network.db.engine import Database
from partners.webhooks import backoff, signing
from partners.webhooks.schema import webhook_deliveries as deliveries
from partners.webhooks.schema import webhook_endpoints as endpoints
from partners.webhooks.schema import webhook_events as events

# Longer than one attempt can take (TIMEOUT below, plus the write that records it).
LEASE = timedelta(seconds=60)
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
USER_AGENT = "PointsNetwork-Webhooks/1"

log = logging.getLogger("pointsnet.webhooks")


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    disabled: int = 0


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    attempts: int  # counting this one
    url: str
    signing: str
    keys: list[bytes]
    msg_id: str
    body: bytes
    held_until: datetime


def _claim(conn: Connection, now: datetime, limit: int, secret_key: str) -> list[Claimed]:
    # Attempts used up but still pending: a drainer died during the last one every time.
    conn.execute(update(deliveries)
                 .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now,
                        deliveries.c.attempts >= backoff.MAX_ATTEMPTS)
                 .values(status="failed",
                         last_error="gave up: the drainer stopped during the last attempt"))
    query = (select(deliveries.c.id, deliveries.c.endpoint_id, deliveries.c.attempts,
                    endpoints.c.url, endpoints.c.signing, endpoints.c.secret,
                    endpoints.c.previous_secret, endpoints.c.previous_until,
                    events.c.msg_id, events.c.body)
             .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
             .join(events, events.c.id == deliveries.c.event_id)
             .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now,
                    endpoints.c.enabled.is_(True), endpoints.c.deleted_at.is_(None))
             .order_by(deliveries.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=deliveries, skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return []
    held_until = now + LEASE
    conn.execute(update(deliveries).where(deliveries.c.id.in_([r.id for r in rows]))
                 .values(attempts=deliveries.c.attempts + 1, next_attempt_at=held_until))
    claimed = []
    for row in rows:
        keys = [signing.unseal(secret_key, bytes(row.secret))]
        if row.previous_secret is not None and row.previous_until is not None \
                and as_utc(row.previous_until) > now:
            keys.append(signing.unseal(secret_key, bytes(row.previous_secret)))
        claimed.append(Claimed(row.id, row.endpoint_id, row.attempts + 1, row.url, row.signing,
                               keys, row.msg_id, row.body.encode(), held_until))
    return claimed


def _take(conn: Connection, claimed: Claimed, now: datetime) -> datetime | None:
    """Renew the lease right before sending, only if nobody claimed it since (the lease we set
    is the token); the new lease, or None."""
    renewed = now + LEASE
    result = conn.execute(update(deliveries)
                          .where(deliveries.c.id == claimed.delivery_id,
                                 deliveries.c.status == "pending",
                                 deliveries.c.next_attempt_at == claimed.held_until)
                          .values(next_attempt_at=renewed))
    return renewed if result.rowcount == 1 else None


def _delivered(conn: Connection, claimed: Claimed, status: int, now: datetime) -> None:
    conn.execute(update(deliveries).where(deliveries.c.id == claimed.delivery_id).values(
        status="delivered", delivered_at=now, last_attempt_at=now, last_status=status,
        last_error=None))
    conn.execute(update(endpoints).where(endpoints.c.id == claimed.endpoint_id,
                                         endpoints.c.failing_since.is_not(None))
                 .values(failing_since=None))


def _failed(conn: Connection, claimed: Claimed, status: int | None, error: str,
            now: datetime, draw: float) -> tuple[bool, bool]:
    """(gave the delivery up, disabled the endpoint)."""
    wait = backoff.retry_wait(claimed.attempts, draw)
    values = {"last_attempt_at": now, "last_status": status, "last_error": error[:300]}
    if wait is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = now + wait
    conn.execute(update(deliveries).where(deliveries.c.id == claimed.delivery_id,
                                          deliveries.c.status == "pending").values(**values))
    since = conn.execute(select(endpoints.c.failing_since)
                         .where(endpoints.c.id == claimed.endpoint_id)).scalar_one()
    if since is None:
        conn.execute(update(endpoints).where(endpoints.c.id == claimed.endpoint_id)
                     .values(failing_since=now))
        return wait is None, False
    if not backoff.should_disable(as_utc(since), now):
        return wait is None, False
    conn.execute(update(endpoints).where(endpoints.c.id == claimed.endpoint_id,
                                         endpoints.c.enabled.is_(True)).values(
        enabled=False, updated_at=now,
        disabled_reason=f"every attempt failed for {backoff.DISABLE_AFTER.days} days"))
    conn.execute(update(deliveries).where(deliveries.c.endpoint_id == claimed.endpoint_id,
                                          deliveries.c.status == "pending")
                 .values(status="cancelled", last_error="the endpoint was disabled"))
    return wait is None, True


def send(client: httpx.Client, claimed: Claimed, now: datetime) -> tuple[int | None, str | None]:
    """(HTTP status or None, why it failed or None)."""
    stamp = int(now.timestamp())
    headers = signing.headers(claimed.signing, claimed.keys, claimed.msg_id, stamp, claimed.body)
    headers["user-agent"] = USER_AGENT
    try:
        response = client.post(claimed.url, content=claimed.body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    if backoff.is_success(response.status_code):
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def drain(db: Database, now: Callable[[], datetime], *, secret_key: str, batch: int = 20,
          client: httpx.Client | None = None,
          draw: Callable[[], float] = random.random) -> DeliveryReport:
    """Send every delivery due now, batch by batch, until none is left. `secret_key`:
    POINTSNET_SECRET_KEY, which unseals the endpoints' signing keys."""
    report = DeliveryReport()
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    # Sync any other dialect's "now" to UTC so lease tokens compare equal (SQLite keeps wall
    # clocks without offsets).
    try:
        while True:
            claimed_at = as_utc(now())
            claimed = db.write(_claim, claimed_at, batch, secret_key)
            if not claimed:
                return report
            for item in claimed:
                taken_at = as_utc(now())
                renewed = db.write(_take, item, taken_at)
                if renewed is None:
                    continue  # our lease ran out and another drainer has it now
                status, error = send(http, item, taken_at)
                done_at = as_utc(now())
                if error is None:
                    db.write(_delivered, item, status, done_at)
                    report.delivered += 1
                    continue
                log.info("webhook delivery %s to endpoint %s failed (attempt %s): %s",
                         item.delivery_id, item.endpoint_id, item.attempts, error)
                gave_up, disabled = db.write(_failed, item, status, error, done_at, draw())
                report.failed += gave_up
                report.retried += not gave_up
                report.disabled += disabled
            if len(claimed) < batch:
                return report
    finally:
        if own:
            http.close()
