"""The programme's inbox: every non-purchase fact is stored here, once, and handed back.

`record` is the one door for custom events (a partner's `recordEvent`) and the lifecycle facts
the network raises (enrolled, birthday, referral converted...). It runs inside the caller's
transaction, so a fact is stored exactly when what raised it commits. It is idempotent by
(scope, key): a partner's Idempotency-Key for its events, a key derived from the fact for the
network's own (`birthday:7:2026`: one birthday per member per year), so a job run twice, or a
retried request, records nothing twice.

A NEW fact is then handed to the campaigns (network/programme/fact_awards.book): those whose
trigger matches it give their points in the same transaction, and `RecordedFact.award` says
what it gave (a replay's answer reads it back, it does not book again).

The earn raises `referral_converted` (network/programme/conversions.py): after a single earn
books, in its own transaction (PostgreSQL's common earn is one statement), and inside a batch's
booking transaction, asked only for members whose referral may still be pending so the common
earn adds no round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from network.clock import as_utc, utcnow
from network.db.clauses import one_of
from network.db.engine import RetryableConflict
from network.db.schema import members
from network.programme import event_specs, event_types, fact_awards
from network.programme.fact_awards import FactAward
from network.programme.facts import CustomEvent, LifecycleEvent
from network.programme.schema import member_events

SYSTEM_SCOPE = "system"
StoredFact = CustomEvent | LifecycleEvent


@dataclass(frozen=True)
class RecordedFact:
    id: int
    fact: StoredFact
    recorded_at: datetime
    new: bool  # False: this (scope, key) was recorded before; `fact` is the first one
    award: FactAward | None = None  # the points campaigns gave for it (fact_awards.py)


def lifecycle_key(fact: LifecycleEvent) -> str:
    """The network's own idempotency key for a lifecycle fact: what makes it happen once."""
    if fact.kind == "enrolled":
        return f"enrolled:{fact.member_id}"
    if fact.kind == "birthday":
        return f"birthday:{fact.member_id}:{fact.attributes['year']}"
    if fact.kind == "referral_converted":
        return f"referral_converted:{fact.attributes['referredMemberId']}"
    raise ValueError(f"a {fact.kind} fact needs an explicit idempotency key")


def _from_row(conn: Connection, row: Any) -> RecordedFact:
    at = as_utc(row.occurred_at)
    fact: StoredFact
    if row.kind == "event":
        spec = event_types.visible_to(conn, row.type, None).spec
        fact = CustomEvent(type=row.type, partner_id=row.partner_id, member_id=row.member_id,
                           at=at, attributes=event_specs.stored_attributes(spec, row.attributes))
    else:
        fact = LifecycleEvent(kind=row.type, member_id=row.member_id, at=at,
                              partner_id=row.partner_id, attributes=dict(row.attributes))
    return RecordedFact(row.id, fact, as_utc(row.recorded_at), new=False,
                        award=fact_awards.award_of(conn, row.id, row.member_id))


def get(conn: Connection, event_id: int) -> RecordedFact | None:
    row = conn.execute(select(member_events).where(member_events.c.id == event_id)).first()
    return _from_row(conn, row) if row else None


def find(conn: Connection, scope: str, key: str) -> RecordedFact | None:
    row = conn.execute(select(member_events).where(
        member_events.c.scope == scope, member_events.c.idempotency_key == key)).first()
    return _from_row(conn, row) if row else None


def record(conn: Connection, fact: StoredFact, *, scope: str | None = None,
           key: str | None = None, now: datetime | None = None,
           timezone: str = "UTC") -> RecordedFact:
    """Store `fact` once per (scope, key) and return it (`new` False, and the first fact, when
    the key was used before). Lifecycle facts default to the system scope and their own key;
    a custom event needs the partner's scope and key. Checking the fact (its type, attributes,
    member) is the caller's: this is the door, not the guard. `timezone` is the network's
    (settings), where campaigns read weekdays, hours and limit periods."""
    if isinstance(fact, LifecycleEvent):
        scope, key = scope or SYSTEM_SCOPE, key or lifecycle_key(fact)
        kind, type_ = "lifecycle", fact.kind
        attributes = dict(fact.attributes)
    else:
        if scope is None or key is None:
            raise ValueError("a custom event is recorded under its sender's scope and key")
        kind, type_ = "event", fact.type
        attributes = event_specs.attributes_json(fact.attributes)
    existing = find(conn, scope, key)
    if existing is not None:
        return existing
    at = now or utcnow()
    try:
        new_id = conn.execute(insert(member_events).values(
            member_id=fact.member_id, partner_id=fact.partner_id, kind=kind, type=type_,
            attributes=attributes, occurred_at=fact.at, recorded_at=at, scope=scope,
            idempotency_key=key).returning(member_events.c.id)).scalar_one()
    except IntegrityError as exc:
        # PostgreSQL: the same fact committed by another transaction since `find` (a job and
        # its retry at once): run again, and `find` returns it.
        if getattr(exc.orig, "sqlstate", None) == "23505":
            raise RetryableConflict("this fact was just recorded") from exc
        raise
    award = _book(conn, new_id, fact, timezone=timezone, now=at)
    return RecordedFact(new_id, fact, at, new=True, award=award)


def _book(conn: Connection, event_id: int, fact: StoredFact, *, timezone: str,
          now: datetime) -> FactAward | None:
    return fact_awards.book(conn, event_id, fact, timezone=timezone, now=now)


@dataclass(frozen=True)
class ReferralConversion:
    referrer_id: int
    referred_member_id: int


def referral_conversion_due(conn: Connection, member_id: int) -> ReferralConversion | None:
    """Whether `member_id` was referred and their conversion is not yet recorded: what the earn
    path asks after booking a referred member's earn (one indexed read each)."""
    referrer = conn.execute(select(members.c.referred_by).where(members.c.id == member_id)
                            ).scalar()
    if referrer is None:
        return None
    if find(conn, SYSTEM_SCOPE, f"referral_converted:{member_id}") is not None:
        return None
    return ReferralConversion(int(referrer), member_id)


def referral_conversions_due(conn: Connection,
                             member_ids: Iterable[int]) -> dict[int, ReferralConversion]:
    """`referral_conversion_due` for many members in two queries (a batch of earns): member id
    -> the conversion due, for the members that have one."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    referred = dict(conn.execute(select(members.c.id, members.c.referred_by).where(
        one_of(conn, members.c.id, ids), members.c.referred_by.is_not(None))).all())
    if not referred:
        return {}
    keys = {f"referral_converted:{member_id}": member_id for member_id in referred}
    done = set(conn.execute(select(member_events.c.idempotency_key).where(
        member_events.c.scope == SYSTEM_SCOPE,
        one_of(conn, member_events.c.idempotency_key, list(keys)))).scalars())
    return {member_id: ReferralConversion(int(referrer), member_id)
            for member_id, referrer in referred.items()
            if f"referral_converted:{member_id}" not in done}


def conversion_fact(due: ReferralConversion, *, partner_id: int | None,
                    at: datetime) -> LifecycleEvent:
    """The `referral_converted` fact of a conversion due: the REFERRER's, so the campaigns on it
    reward them; the referred member and where they first earned are its attributes."""
    return LifecycleEvent(kind="referral_converted", member_id=due.referrer_id, at=at,
                          partner_id=partner_id,
                          attributes={"referredMemberId": due.referred_member_id})


def record_referral_conversion(conn: Connection, member_id: int, *, partner_id: int | None,
                               at: datetime, now: datetime | None = None,
                               timezone: str = "UTC") -> RecordedFact | None:
    """Raise `referral_converted` for the referrer of `member_id` (its first earn, at
    `partner_id`, at `at`), in the caller's transaction; None when none is due."""
    due = referral_conversion_due(conn, member_id)
    if due is None:
        return None
    return record(conn, conversion_fact(due, partner_id=partner_id, at=at), now=now,
                  timezone=timezone)
