"""Schedules are pure: slots from `now`, in the network's zone, with catch-up and DST nights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from network.jobs.schedule import DailyAt, Every, due_slot

UTC_ZONE = ZoneInfo("UTC")
TEHRAN = ZoneInfo("Asia/Tehran")  # UTC+03:30, no daylight saving
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_every_cuts_time_into_slots_aligned_on_the_epoch() -> None:
    every = Every(60)
    now = utc(2026, 12, 7, 10, 15, 42)
    assert every.slot(now, UTC_ZONE) == utc(2026, 12, 7, 10, 15)
    assert every.next_slot(now, UTC_ZONE) == utc(2026, 12, 7, 10, 16)
    # A slot's first instant belongs to it; the same slot whatever the zone or the process.
    assert every.slot(utc(2026, 12, 7, 10, 16), TEHRAN) == utc(2026, 12, 7, 10, 16)
    assert Every(10).slot(utc(2026, 12, 7, 10, 15, 59, 999999), UTC_ZONE) == \
        utc(2026, 12, 7, 10, 15, 50)
    with pytest.raises(ValueError):
        Every(0)


def test_daily_runs_at_the_wall_clock_time_of_the_networks_zone() -> None:
    daily = DailyAt(2, 0)  # 02:00 in Tehran is 22:30 UTC the day before
    before = utc(2026, 12, 6, 22, 29)
    after = utc(2026, 12, 6, 22, 30)
    assert daily.slot(before, TEHRAN) == utc(2026, 12, 5, 22, 30)
    assert daily.next_slot(before, TEHRAN) == utc(2026, 12, 6, 22, 30)
    assert daily.slot(after, TEHRAN) == utc(2026, 12, 6, 22, 30)
    assert daily.next_slot(after, TEHRAN) == utc(2026, 12, 7, 22, 30)
    with pytest.raises(ValueError):
        DailyAt(24, 0)


def test_a_daily_job_missed_for_days_runs_once_then_waits_for_tomorrow() -> None:
    daily = DailyAt(3, 0)
    done = utc(2026, 12, 1, 3, 0)
    back = utc(2026, 12, 7, 9, 0)  # no worker ran for six days
    assert due_slot(daily, done, back, UTC_ZONE) == utc(2026, 12, 7, 3, 0)  # today's, once
    today = utc(2026, 12, 7, 3, 0)
    assert due_slot(daily, today, back + timedelta(hours=12), UTC_ZONE) is None
    assert due_slot(daily, today, utc(2026, 12, 8, 3, 0), UTC_ZONE) == utc(2026, 12, 8, 3, 0)
    # A job never run before runs at once.
    assert due_slot(daily, None, back, UTC_ZONE) == utc(2026, 12, 7, 3, 0)


def test_daylight_saving_nights_run_a_daily_job_once() -> None:
    daily = DailyAt(2, 30)
    # 29 March 2026: Berlin's clocks jump from 02:00 CET to 03:00 CEST; 02:30 never happens, the
    # job runs once the clock has passed it, at 01:30 UTC (03:30 CEST).
    spring = daily.slot(utc(2026, 3, 29, 12, 0), BERLIN)
    assert spring == utc(2026, 3, 29, 1, 30)
    assert daily.slot(utc(2026, 3, 29, 1, 29), BERLIN) == utc(2026, 3, 28, 1, 30)
    # 25 October 2026: 02:30 happens twice (CEST, then CET); the first one is the slot, and the
    # second finds it done.
    first = utc(2026, 10, 25, 0, 30)
    assert daily.slot(utc(2026, 10, 25, 0, 31), BERLIN) == first
    assert due_slot(daily, first, utc(2026, 10, 25, 1, 31), BERLIN) is None
