"""What a job is: a name, a schedule, and a function doing bounded, transactional work."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from network.db.engine import Database
from network.jobs.schedule import Schedule

Clock = Callable[[], dt.datetime]
# What a run did, by name (lots expired, messages sent...): kept in the run history.
Counts = Mapping[str, int]

_NAME = re.compile(r"[a-z][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class Job:
    """`run(db, clock)` must be safe to run again after a crash at any point: it commits its
    work in transactions that each leave the database whole, so a run killed halfway has done
    some of the work, none of it half, and the next run does the rest. It should also be safe
    beside a second copy of itself (row locks, not the worker's lease, keep its data right): the
    lease makes two copies rare, not impossible (a worker frozen past its lease)."""

    name: str
    schedule: Schedule
    run: Callable[[Database, Clock], Counts]
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"a job name is lower-case letters, digits and dashes, "
                             f"got {self.name!r}")
