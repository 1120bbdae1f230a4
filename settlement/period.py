"""A settlement period: one calendar month in the network's time zone.

Why the time zone matters: a redemption at 00:30 local time on 1 November belongs to November
even though it is still 31 October in UTC. The ledger stores `booked_at` in UTC, so the
period is turned into a half-open UTC interval [start, end) once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from settlement.errors import SettlementError

# ASCII digits only: `\d` would also accept full-width or Arabic-Indic digits (２０２６-１０).
_PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# The first year of the network and the last whose following month Python's datetime can still
# represent (the period's end is the first instant of the next month).
_YEARS = range(2000, 9999)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse 'YYYY-MM' strictly: anything else is BAD_PERIOD, a year the network cannot
        settle (its datetimes would overflow) PERIOD_OUT_OF_RANGE; both name the input."""
        match = _PERIOD.match(text.strip()) if isinstance(text, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise SettlementError(
                "BAD_PERIOD",
                f"period must be a calendar month written YYYY-MM (e.g. 2026-10), got {text!r}",
                field="period",
            )
        year = int(match.group(1))
        if year not in _YEARS:
            raise SettlementError(
                "PERIOD_OUT_OF_RANGE",
                f"period must lie between {_YEARS[0]}-01 and {_YEARS[-1]}-12, got {text!r}",
                field="period",
            )
        return cls(year, int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def bounds(self, time_zone: str) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of this month in `time_zone`."""
        try:
            tz = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettlementError("BAD_TIME_ZONE", f"unknown time zone {time_zone!r}") from exc
        nxt = self.next()
        start = datetime(self.year, self.month, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(nxt.year, nxt.month, 1, tzinfo=tz).astimezone(UTC)
        return start, end
