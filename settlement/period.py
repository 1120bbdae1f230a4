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

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse 'YYYY-MM' strictly; anything else is a BAD_PERIOD error naming the input."""
        match = _PERIOD.match(text.strip()) if isinstance(text, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise SettlementError(
                "BAD_PERIOD",
                f"period must be a calendar month written YYYY-MM (e.g. 2026-10), got {text!r}",
                field="period",
            )
        return cls(int(match.group(1)), int(match.group(2)))

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
