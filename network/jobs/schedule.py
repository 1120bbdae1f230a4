"""When a job runs: every N seconds, or daily at HH:MM in the network's time zone.

A schedule cuts time into *slots*; a job runs at most once per slot (runner.py keeps the last slot
done per job). Pure functions of `now`, so every rule here is tested without a clock or database.

Catch-up follows from the rule: a worker that starts after days away finds only the *current* slot
not done and runs it once, not once per slot it missed (expiry, draining and the like do all
that is due in one run anyway).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Schedule(Protocol):
    def slot(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """The start (UTC) of the slot `now` falls in: the latest run time at or before `now`."""
        ...

    def next_slot(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """The start (UTC) of the slot after the one `now` falls in."""
        ...

    def describe(self) -> str:
        ...


@dataclass(frozen=True)
class Every:
    """Every `seconds`, in slots aligned on the Unix epoch, so every worker process computes
    the same slots whenever it started (every 60 s means on each whole UTC minute)."""

    seconds: int

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError(f"Every needs at least 1 second, got {self.seconds}")

    def slot(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        elapsed = (now - _EPOCH) // dt.timedelta(seconds=1)  # exact: no float seconds
        return _EPOCH + dt.timedelta(seconds=elapsed - elapsed % self.seconds)

    def next_slot(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        return self.slot(now, zone) + dt.timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds} s"


@dataclass(frozen=True)
class DailyAt:
    """Daily at `hour`:`minute` on the wall clock of the network's zone (POINTSNET_TIMEZONE).

    On the night a daylight-saving change skips that time, the job runs when the clock has passed
    it (02:30 in Berlin on the spring night runs at 03:30 CEST); on the night a time occurs twice,
    it runs at the first one only (a slot is one per calendar day).
    """

    hour: int
    minute: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.hour < 24 and 0 <= self.minute < 60):
            raise ValueError(f"DailyAt needs a time of day, got {self.hour}:{self.minute}")

    def _on(self, day: dt.date, zone: ZoneInfo) -> dt.datetime:
        # fold=0: an ambiguous time means its first occurrence; a skipped time is read with the
        # offset before the change, which lands after the gap.
        local = dt.datetime.combine(day, dt.time(self.hour, self.minute), tzinfo=zone)
        return local.astimezone(dt.UTC)

    def slot(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        today = now.astimezone(zone).date()
        run = self._on(today, zone)
        return run if run <= now else self._on(today - dt.timedelta(days=1), zone)

    def next_slot(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        today = now.astimezone(zone).date()
        run = self._on(today, zone)
        return run if run > now else self._on(today + dt.timedelta(days=1), zone)

    def describe(self) -> str:
        return f"daily at {self.hour:02d}:{self.minute:02d}"


def due_slot(schedule: Schedule, last_done: dt.datetime | None, now: dt.datetime,
             zone: ZoneInfo) -> dt.datetime | None:
    """The slot to run now, or None when the current slot is already done."""
    current = schedule.slot(now, zone)
    if last_done is not None and last_done >= current:
        return None
    return current
