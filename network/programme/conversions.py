"""Raising `referral_converted` from the earn: a referred member's first earn tells the inbox, and
the campaigns on that lifecycle fact reward the REFERRER (network/programme/inbox.py).

The common earn must not pay a round trip to learn that its member was referred by nobody, or
was and has converted already. So each process keeps the set of members whose referral may
still be pending, read again every RELOAD_SECONDS (sooner, at most every SETTLE_SECONDS, when
members newer than it covers earn), and asks the database only for the members in that set or
newer than what the set covers:

- `referred_by` is written once, at enrolment, so a member the set covers (id at most
  `covered_up_to`) and does not list was referred by nobody or had converted when it was read.
  `covered_up_to` is the highest id of members enrolled more than SETTLE_SECONDS before the
  read, so an enrolment still committing when the set was read (its id is taken before it
  commits) is not mistaken for "covered" (an enrolment that takes longer than that to commit,
  or that gives a `now` in the past while the set is read, could be: its conversion would then
  wait for the member's first earn after the next read, and be raised there).
- A member the set lists may have converted since, in this or another process: the exact check
  (`inbox.record_referral_conversion`, idempotent by `referral_converted:<member id>`) decides,
  and the member leaves this process's set either way, so a stale entry costs one read.

Single earns raise it after booking, in a transaction of their own (on PostgreSQL the common
earn is one statement); a batch raises it inside its booking transaction.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import members
from network.programme import inbox
from network.programme.schema import member_events

RELOAD_SECONDS = 60.0
SETTLE_SECONDS = 5.0


@dataclass
class _Pending:
    covered_up_to: int
    pending: set[int]
    loaded: float


_cache: dict[str, _Pending] = {}
_lock = threading.Lock()


def _load(conn: Connection, now: dt.datetime) -> tuple[int, set[int]]:
    m = members.c
    covered = conn.execute(select(func.coalesce(func.max(m.id), 0)).where(
        m.created_at <= now - dt.timedelta(seconds=SETTLE_SECONDS))).scalar_one()
    referred = set(conn.execute(select(m.id).where(
        m.referred_by.is_not(None), m.id <= covered)).scalars())
    if not referred:
        return int(covered), set()
    e = member_events.c
    converted = {int(key.rsplit(":", 1)[1]) for key in conn.execute(select(e.idempotency_key).where(
        e.type == "referral_converted", e.scope == inbox.SYSTEM_SCOPE)).scalars()}
    return int(covered), referred - converted


def may_be_pending(db: Database, member_ids: Iterable[int], *,
                   clock: float | None = None) -> list[int]:
    """Of `member_ids`, those whose referral may still be pending (the others surely are not);
    no database read unless this process's set is older than RELOAD_SECONDS."""
    now = time.monotonic() if clock is None else clock
    ids = set(member_ids)
    found = _cache.get(db.url)
    if (found is None or now - found.loaded >= RELOAD_SECONDS
            or (now - found.loaded >= SETTLE_SECONDS
                and any(m > found.covered_up_to for m in ids))):
        covered, pending = db.read(_load, utcnow())
        found = _Pending(covered, pending, now)
        with _lock:
            _cache[db.url] = found
    return sorted(m for m in ids if m > found.covered_up_to or m in found.pending)


def settled(db: Database, member_ids: Iterable[int]) -> None:
    """These members' conversions are recorded (or were not due): out of this process's set."""
    found = _cache.get(db.url)
    if found is not None:
        with _lock:
            found.pending.difference_update(member_ids)


def forget() -> None:
    """Tests that empty and refill a database under one URL."""
    _cache.clear()


def after_earn(db: Database, member_id: int, *, partner_id: int, at: dt.datetime,
               timezone: str = "UTC") -> inbox.RecordedFact | None:
    """After a single earn booked: raise the member's referral conversion if it is due (its own
    transaction); nothing read for a member whose referral is surely not pending."""
    if not may_be_pending(db, [member_id]):
        return None
    recorded = db.write(lambda conn: inbox.record_referral_conversion(
        conn, member_id, partner_id=partner_id, at=at, now=at, timezone=timezone))
    settled(db, [member_id])
    return recorded


def in_batch(conn: Connection, member_ids: Iterable[int], *, partner_id: int, at: dt.datetime,
             timezone: str = "UTC") -> list[inbox.RecordedFact]:
    """Inside a batch's booking transaction: raise the conversions due for `member_ids` (the
    batch's members that `may_be_pending` kept; the caller passes none when it kept none, and
    calls `settled` once the batch committed)."""
    ids = sorted(set(member_ids))
    if not ids:
        return []
    due = inbox.referral_conversions_due(conn, ids)
    return [inbox.record(conn, inbox.conversion_fact(conversion, partner_id=partner_id, at=at),
                         now=at, timezone=timezone) for _, conversion in sorted(due.items())]
