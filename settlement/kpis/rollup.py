"""Rolling the ledger up into daily KPI rows (settlement/kpis/schema.py).

A day is a calendar day in the network's time zone (POINTSNET_TIMEZONE) on the hub's booking
time, as settlement's periods are. Each day is recomputed whole, in one transaction: its rows
are deleted and written again from the ledger, so refreshing a day twice gives the same rows, a
crash leaves every day either as it was or fully refreshed, and a late booking (a reversal, the
expiry job running behind) is taken in when its day is refreshed again. The job refreshes from
two days before the last day it finished to today; a first run backfills from the ledger's first
day (its first member or
entry), `MAX_DAYS_PER_RUN` days per run.

What each measure counts (per party and, under party 0, for the network):
- new_members: members created that day, by the partner that enrolled them;
- issued: points credited in new lots (earns, bonuses, campaign and goodwill points), by issuer;
  a gift between members moves a lot and is neither issued nor consumed;
- consumed: points taken from lots (redeemed, donated, expired, clawed back), by issuer, net of
  reversals; issued minus consumed summed up to a day is the issuer's outstanding liability;
- earns: earn transactions at the partner (visits), which campaign uplift compares;
- active_30 / active_90: distinct members with a transaction (at the partner) in the 30 / 90
  days ending that day: a snapshot, not a sum;
- tier:<code>: members in each tier at the end of the day (network only), taken for the two
  latest days of each run and kept afterwards, since it reads a year of earns per member;
- campaign:<id> under the funder: campaign points booked that day, net of reversals.
Flows: consumptions of the day by issuer x sink x kind (redemption, donation, expiry).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, and_, case, cast, delete, func, insert, select

from network.db.engine import Database
from network.db.schema import consumptions, journal_entries, lots, members
from network.programme import ladder_store, tiers
from network.programme.campaigns_schema import campaign_awards
from network.programme.tier_facts import EARNED, EARNED_KINDS
from settlement.kpis.schema import NETWORK, kpi_daily, kpi_days, kpi_flows

MAX_DAYS_PER_RUN = 120
REDO_DAYS = 2  # late bookings: the days before the last refreshed one are refreshed again
TIER_DAYS = 2  # tier snapshots are taken for this many latest days of a run
FLOW_KINDS = ("redemption", "donation", "expiry")
ACTIVE_WINDOWS = {"active_30": 30, "active_90": 90}
# A member's own movements; the expiry job's entries are not a member's activity.
ACTIVE_KINDS = ("earn", "bonus", "redeem", "capture", "donate", "transfer_out", "transfer_in",
                "reverse_earn", "reverse_redemption")


def day_bounds(day: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants a local calendar day starts and ends at (DST days are 23 or 25 h)."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    return start, end


def local_day(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(zone)).date()


def _with_network(rows: Iterable[tuple[int | None, int]]) -> Counter[int]:
    """Per-party values plus their network total under party 0 (a NULL party counts only there)."""
    out: Counter[int] = Counter()
    for party, value in rows:
        if value:
            out[NETWORK] += int(value)
            if party is not None:
                out[int(party)] += int(value)
    return out


def day_measures(conn: Connection, day: dt.date, zone: str, *,
                 with_tiers: bool) -> tuple[list[dict], list[dict]]:
    """The day's kpi_daily and kpi_flows rows, computed from the ledger."""
    start, end = day_bounds(day, zone)
    rows: list[dict] = []

    def add(measure: str, values: Counter[int]) -> None:
        rows.extend({"day": day, "party_id": party, "measure": measure, "value": value}
                    for party, value in values.items() if value)

    m, lo, c, je = members, lots, consumptions, journal_entries
    add("new_members", _with_network(conn.execute(
        select(m.c.enrolled_by_party_id, func.count())
        .where(m.c.created_at >= start, m.c.created_at < end)
        .group_by(m.c.enrolled_by_party_id)).tuples().all()))
    add("issued", _with_network(conn.execute(
        select(lo.c.issuer_party_id, func.sum(lo.c.points))
        .where(lo.c.created_at >= start, lo.c.created_at < end, lo.c.points > 0,
               lo.c.source_lot_id.is_(None))
        .group_by(lo.c.issuer_party_id)).tuples().all()))
    add("consumed", _with_network(conn.execute(
        select(c.c.issuer_party_id, func.sum(c.c.points))
        .where(c.c.booked_at >= start, c.c.booked_at < end, c.c.kind != "transfer")
        .group_by(c.c.issuer_party_id)).tuples().all()))
    add("earns", _with_network(conn.execute(
        select(je.c.party_id, func.count())
        .where(je.c.booked_at >= start, je.c.booked_at < end, je.c.kind == "earn")
        .group_by(je.c.party_id)).tuples().all()))
    for measure, days in ACTIVE_WINDOWS.items():
        since = end - dt.timedelta(days=days)
        window = and_(je.c.booked_at >= since, je.c.booked_at < end,
                      je.c.kind.in_(ACTIVE_KINDS))
        active: Counter[int] = Counter()
        active[NETWORK] = conn.execute(
            select(func.count(je.c.member_id.distinct())).where(window)).scalar_one()
        for party, count in conn.execute(
                select(je.c.party_id, func.count(je.c.member_id.distinct()))
                .where(window, je.c.party_id.is_not(None)).group_by(je.c.party_id)).tuples():
            active[int(party)] = int(count)
        add(measure, active)
    if with_tiers:
        add_tiers(conn, end, add)
    ca = campaign_awards
    for campaign_id, funder, points in conn.execute(
            select(ca.c.campaign_id, ca.c.funder_party_id, func.sum(ca.c.points))
            .where(ca.c.booked_at >= start, ca.c.booked_at < end, ca.c.campaign_id.is_not(None))
            .group_by(ca.c.campaign_id, ca.c.funder_party_id)).tuples():
        if points:
            rows.append({"day": day, "party_id": int(funder), "measure": f"campaign:{campaign_id}",
                         "value": int(points)})
    flows = [{"day": day, "issuer_party_id": int(issuer), "sink_party_id": int(sink or 0),
              "kind": kind, "points": int(points)}
             for issuer, sink, kind, points in conn.execute(
                 select(c.c.issuer_party_id, c.c.sink_party_id, c.c.kind, func.sum(c.c.points))
                 .where(c.c.booked_at >= start, c.c.booked_at < end, c.c.kind.in_(FLOW_KINDS))
                 .group_by(c.c.issuer_party_id, c.c.sink_party_id, c.c.kind)).tuples()
             if points]
    return rows, flows


def add_tiers(conn: Connection, end: dt.datetime, add) -> None:  # type: ignore[no-untyped-def]
    """Members per tier at `end`: one grouped pass over the tier window's earns, bucketed by the
    tier thresholds in SQL; members without earns are in the lowest tier."""
    definitions = ladder_store.ladder(conn)
    if not definitions:
        return
    je = journal_entries
    earned = (select(je.c.member_id, func.sum(EARNED).label("points"))
              .where(je.c.booked_at > end - tiers.window(definitions), je.c.booked_at <= end,
                     je.c.kind.in_(EARNED_KINDS))
              .group_by(je.c.member_id).subquery())
    bucket = case(*((earned.c.points >= d.threshold, d.code) for d in reversed(definitions)),
                  else_=definitions[0].code)
    counts: Counter[int] = Counter()
    by_tier = dict(conn.execute(select(cast(bucket, String), func.count())
                                .group_by(bucket)).tuples().all())
    everyone = conn.execute(select(func.count()).select_from(members)
                            .where(members.c.created_at < end)).scalar_one()
    by_tier[definitions[0].code] = (by_tier.get(definitions[0].code, 0)
                                    + everyone - sum(by_tier.values()))
    for code, count in by_tier.items():
        counts = Counter({NETWORK: int(count)})
        add(f"tier:{code}", counts)


def refresh_day(conn: Connection, day: dt.date, zone: str, now: dt.datetime, *,
                with_tiers: bool) -> int:
    """Recompute one day's rows in the caller's transaction; the number of rows written."""
    kept_tiers: list[dict] = []
    if not with_tiers:  # keep the snapshot taken when the day was recent
        kept_tiers = [dict(r._mapping) for r in conn.execute(
            select(kpi_daily).where(kpi_daily.c.day == day,
                                    kpi_daily.c.measure.like("tier:%")))]
    rows, flows = day_measures(conn, day, zone, with_tiers=with_tiers)
    rows += kept_tiers
    conn.execute(delete(kpi_daily).where(kpi_daily.c.day == day))
    conn.execute(delete(kpi_flows).where(kpi_flows.c.day == day))
    conn.execute(delete(kpi_days).where(kpi_days.c.day == day))
    if rows:
        conn.execute(insert(kpi_daily), rows)
    if flows:
        conn.execute(insert(kpi_flows), flows)
    conn.execute(insert(kpi_days).values(day=day, refreshed_at=now))
    return len(rows) + len(flows)


def days_due(conn: Connection, today: dt.date, zone: str) -> list[dt.date]:
    """The days the next run refreshes, oldest first, at most MAX_DAYS_PER_RUN."""
    last = conn.execute(select(func.max(kpi_days.c.day))).scalar_one()
    if last is None:
        starts = [conn.execute(select(func.min(column))).scalar_one()
                  for column in (journal_entries.c.booked_at, members.c.created_at)]
        known = [local_day(at, zone) for at in starts if at is not None]
        first = min([*known, today])
    else:
        first = min(last - dt.timedelta(days=REDO_DAYS), today - dt.timedelta(days=REDO_DAYS))
    span = (today - first).days + 1
    if span > MAX_DAYS_PER_RUN and last is None:
        span = MAX_DAYS_PER_RUN
    elif span > MAX_DAYS_PER_RUN:  # behind: catch up from where it stopped
        span = MAX_DAYS_PER_RUN
    return [first + dt.timedelta(days=i) for i in range(span)]


@dataclass(frozen=True)
class Refreshed:
    days: int
    rows: int


def refresh(db: Database, now: dt.datetime, zone: str, *,
            days: list[dt.date] | None = None) -> Refreshed:
    """Refresh the due days (or `days`), each in a transaction of its own."""
    today = local_day(now, zone)
    wanted = days if days is not None else db.read(days_due, today, zone)
    latest = set(sorted(wanted)[-TIER_DAYS:]) if days is None else set(wanted)
    written = 0
    for day in wanted:
        written += db.write(refresh_day, day, zone, now,
                            with_tiers=day in latest and day >= today - dt.timedelta(days=1))
    return Refreshed(len(wanted), written)
