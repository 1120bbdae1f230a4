"""The daily birthday job: raise a `birthday` fact for every member whose birthday is today.

Idempotent per member per year (inbox key `birthday:<member>:<year>`), so running it twice, or
again after a crash half way, raises nothing twice; a day it did not run is not made up later (a
birthday bonus a week late is not a birthday bonus). A member born on 29 February has their
birthday on 28 February in other years.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, extract, or_, select

from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import members
from network.programme import inbox
from network.programme.facts import LifecycleEvent


@dataclass(frozen=True)
class BirthdayRun:
    today: dt.date
    due: int  # members whose birthday it is
    raised: list[int]  # member ids raised by this run (the others were raised before)


def born_on(today: dt.date) -> list[tuple[int, int]]:
    """(month, day) of the birth dates whose birthday is `today`: 28 February also takes
    29 February when this year has none."""
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        days.append((2, 29))
    return days


def raise_due(db: Database, today: dt.date, *, zone: str = "UTC",
              now: dt.datetime | None = None) -> BirthdayRun:
    """Raise today's birthdays (today in the network's time zone, `zone`); each fact happens at
    the start of that day there."""
    at = dt.datetime.combine(today, dt.time(0), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)

    def transaction(conn: Connection) -> BirthdayRun:
        month, day = extract("month", members.c.birth_date), extract("day", members.c.birth_date)
        ids = conn.execute(select(members.c.id).where(
            members.c.birth_date.is_not(None), members.c.birth_date <= today,
            or_(*(and_(month == m, day == d) for m, d in born_on(today))),
        ).order_by(members.c.id)).scalars().all()
        raised = []
        for member_id in ids:
            recorded = inbox.record(conn, LifecycleEvent(
                kind="birthday", member_id=member_id, at=at,
                attributes={"year": today.year}), now=now or utcnow(), timezone=zone)
            if recorded.new:
                raised.append(member_id)
        return BirthdayRun(today, len(ids), raised)

    return db.write(transaction)
