"""The periodic lifecycle messages: points earned (one digest per member per hour), pending
points that became spendable (daily) and points about to expire (daily, 30 and 7 days ahead).

Each reads the ledger for a closed window, then queues one message per member in a transaction
of its own, under an occasion key (network/notifications/messages.claim_occasion): a crash
leaves the remaining members for the next run, and a rerun, or a run over a window an earlier
run already covered, announces nothing twice. Each looks a little way back, so a worker that was
down for a few hours or days catches up instead of skipping.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from network.config import Settings, get_settings
from network.db.engine import Database
from network.db.schema import journal_entries, lots, parties
from network.ledger import balances
from network.notifications import messages
from network.programme.tiers_schema import tier_changes as tier_change_rows

HOUR = dt.timedelta(hours=1)
# An earn is booked (booked_at) a moment before its transaction commits: an hour is summed only
# once it ended this long ago, so a slow commit is not missed.
SETTLE = dt.timedelta(minutes=2)
EARNED_LOOKBACK_HOURS = 6
DAILY_LOOKBACK_DAYS = 3
EXPIRY_HORIZONS = (30, 7)
EARN_KINDS = ("earn", "bonus")


@dataclass
class Run:
    members: int = 0  # members with something to announce
    queued: int = 0  # outbox rows written (a member may have two channels, or none allowed)


def _spendable(conn: Connection, member_id: int, now: dt.datetime) -> int:
    return balances.summary(conn, member_id, now).spendable


def _names(conn: Connection, party_id: int) -> dict[str, str]:
    row = conn.execute(select(parties.c.name, parties.c.name_fa)
                       .where(parties.c.id == party_id)).one()
    return {"en": row.name, "fa": row.name_fa or row.name}


def hours_to_digest(now: dt.datetime) -> list[dt.datetime]:
    """Starts (UTC) of the closed hours an earned-points run covers, oldest first."""
    last_end = (now - SETTLE).replace(minute=0, second=0, microsecond=0)
    return [last_end - HOUR * k for k in range(EARNED_LOOKBACK_HOURS, 0, -1)]


def earned(db: Database, now: dt.datetime, settings: Settings | None = None) -> Run:
    """One message per member per hour summing that hour's earns and bonuses, not one per
    coffee. Returns in that hour are not netted: the message says what was earned."""
    settings = settings or get_settings()
    run = Run()
    for start in hours_to_digest(now):
        end = start + HOUR
        rows = db.read(lambda c, s=start, e=end: c.execute(
            select(journal_entries.c.member_id, journal_entries.c.party_id,
                   func.sum(journal_entries.c.points).label("points"))
            .where(journal_entries.c.kind.in_(EARN_KINDS),
                   journal_entries.c.booked_at >= s, journal_entries.c.booked_at < e)
            .group_by(journal_entries.c.member_id, journal_entries.c.party_id)).all())
        by_member: dict[int, dict[int, int]] = defaultdict(dict)
        for r in rows:
            by_member[r.member_id][r.party_id] = int(r.points)
        occasion = f"earned:{start:%Y-%m-%dT%H}"
        for member_id, per_party in sorted(by_member.items()):
            def write(conn: Connection, member_id: int = member_id,
                      per_party: dict[int, int] = per_party,
                      occasion: str = occasion) -> list[int]:
                params = {"points": sum(per_party.values()), "count": len(per_party),
                          "balance": _spendable(conn, member_id, now)}
                if len(per_party) == 1:
                    params["partner"] = _names(conn, next(iter(per_party)))
                else:
                    params["partner"] = ""
                return messages.deliver(conn, member_id, "earned", params, now=now,
                                        occasion=occasion, settings=settings)
            run.members += 1
            run.queued += len(db.write(write))
        run.queued += _receipts(db, start, end, now, settings)
    return run


def _receipts(db: Database, start: dt.datetime, end: dt.datetime, now: dt.datetime,
              settings: Settings) -> int:
    """Donation receipts the donating request did not get to queue (it stopped after booking):
    each receipt's occasion (donation:<entry>) makes the usual case a no-op."""
    rows = db.read(lambda c: c.execute(
        select(journal_entries.c.id, journal_entries.c.member_id)
        .where(journal_entries.c.kind == "donate", journal_entries.c.booked_at >= start,
               journal_entries.c.booked_at < end)).all())
    return sum(len(db.write(messages.donation_receipt, r.member_id, r.id, now=now,
                            settings=settings)) for r in rows)


def _local_days(now: dt.datetime, zone: ZoneInfo, days: range) -> list[dt.date]:
    today = now.astimezone(zone).date()
    return [today + dt.timedelta(days=d) for d in days]


def _day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time()).replace(tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).replace(tzinfo=zone)
    return start, end.astimezone(dt.UTC)


def vested(db: Database, now: dt.datetime, settings: Settings | None = None) -> Run:
    """Pending points that became spendable on each of the last few closed days (the network's
    calendar), one message per member per day."""
    settings = settings or get_settings()
    zone = ZoneInfo(settings.timezone)
    run = Run()
    for day in _local_days(now, zone, range(-DAILY_LOOKBACK_DAYS, 0)):
        start, end = _day_bounds(day, zone)
        rows = db.read(lambda c, s=start, e=end: c.execute(
            select(lots.c.member_id, func.sum(lots.c.remaining).label("points"))
            .where(lots.c.remaining > 0, lots.c.vests_at >= s, lots.c.vests_at < e,
                   lots.c.vests_at > lots.c.created_at)
            .group_by(lots.c.member_id).order_by(lots.c.member_id)).all())
        for r in rows:
            def write(conn: Connection, member_id: int = r.member_id,
                      points: int = int(r.points), day: dt.date = day) -> list[int]:
                return messages.deliver(
                    conn, member_id, "vested",
                    {"points": points, "balance": _spendable(conn, member_id, now)},
                    now=now, occasion=f"vested:{day.isoformat()}", settings=settings)
            run.members += 1
            run.queued += len(db.write(write))
    return run


def expiring(db: Database, now: dt.datetime, settings: Settings | None = None) -> Run:
    """Points expiring 30 and 7 days from today (the network's calendar): one message per
    member per expiry date and horizon. The last few days' targets are looked at again, so a
    day the worker missed is caught up (the message names the date, not "in 30 days")."""
    settings = settings or get_settings()
    zone = ZoneInfo(settings.timezone)
    today = now.astimezone(zone).date()
    run = Run()
    for horizon in EXPIRY_HORIZONS:
        for back in range(DAILY_LOOKBACK_DAYS - 1, -1, -1):
            day = today + dt.timedelta(days=horizon - back)
            start, end = _day_bounds(day, zone)
            rows = db.read(lambda c, s=start, e=end: c.execute(
                select(lots.c.member_id, func.sum(lots.c.remaining).label("points"))
                .where(and_(lots.c.remaining > 0, lots.c.expires_at >= s,
                            lots.c.expires_at < e, lots.c.expires_at > now))
                .group_by(lots.c.member_id).order_by(lots.c.member_id)).all())
            for r in rows:
                def write(conn: Connection, member_id: int = r.member_id,
                          points: int = int(r.points), day: dt.date = day,
                          horizon: int = horizon) -> list[int]:
                    return messages.deliver(
                        conn, member_id, "expiring",
                        {"points": points, "date": day, "days": (day - today).days},
                        now=now, occasion=f"expiring{horizon}:{day.isoformat()}",
                        settings=settings)
                run.members += 1
                run.queued += len(db.write(write))
    return run


def tier_changes(db: Database, now: dt.datetime, settings: Settings | None = None) -> Run:
    """"You reached gold" / "you are silver now": one message per stored tier change of the last
    few days (network/programme/tiers_store.py writes them, at an earn or in the daily
    recalculation), each once (occasion `tier:<change id>`). Sent from here rather than from the
    earn that upgraded, so the earn's transaction stays the ledger's and a message never waits
    on the member's contact details being decrypted inside it."""
    settings = settings or get_settings()
    since = now - dt.timedelta(days=DAILY_LOOKBACK_DAYS)
    rows = db.read(lambda c: c.execute(
        select(tier_change_rows.c.id, tier_change_rows.c.member_id,
               tier_change_rows.c.from_tier, tier_change_rows.c.to_tier)
        .where(tier_change_rows.c.changed_at >= since, tier_change_rows.c.changed_at <= now)
        .order_by(tier_change_rows.c.id)).all())
    run = Run()
    for r in rows:
        def write(conn: Connection, r=r) -> list[int]:  # noqa: ANN001 - a result row
            return messages.tier_changed(conn, r.member_id, r.from_tier, r.to_tier, now=now,
                                         settings=settings, occasion=f"tier:{r.id}")
        run.members += 1
        run.queued += len(db.write(write))
    return run
