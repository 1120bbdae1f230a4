"""Partner webhooks: a partner's endpoints hear of what happened at that partner (Standard
Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once.

- `events`: the event types and their bodies; `emit(conn, partner_id, type, data)` (store.py)
  queues one inside the caller's transaction; the ledger's bookings reach it through
  network/ledger/observers.py, registered when this package is imported.
- `signing`, `backoff`, `verify`: pure rules (keys and signatures; retries, giving up, disabling;
  the receiver's check, shipped in the partner SDK).
- `store`: endpoints, events, deliveries; `delivery`: the worker job that sends them (`jobs`).
"""

from __future__ import annotations

from network.ledger import observers
from partners.webhooks import store
from partners.webhooks.events import (
    COUPON_BOUGHT,
    COUPON_USED,
    EVENT_TYPES,
    MEMBER_ENROLLED,
    POINTS_EARNED,
    POINTS_REDEEMED,
    POINTS_REVERSED,
    STATEMENT_READY,
)
from partners.webhooks.store import emit

observers.observe(store.OBSERVER)

__all__ = ["COUPON_BOUGHT", "COUPON_USED", "EVENT_TYPES", "MEMBER_ENROLLED", "POINTS_EARNED",
           "POINTS_REDEEMED", "POINTS_REVERSED", "STATEMENT_READY", "emit"]
