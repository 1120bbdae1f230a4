"""Running jobs: each due slot of each job once, by whichever worker claims its lease first.

A pass (`run_due`) goes through the jobs in order; for each it works out the current slot
(schedule.py), claims the lease for it (leases.py) and, if it got it, runs the job while a
heartbeat thread renews the lease, then records the outcome. A job that raises is recorded as
`failed` with its error, and the pass goes on to the next job. `run_forever` repeats passes,
waking at the next slot of any job, and at least every `poll` seconds so that a job whose
holder died is taken over soon after its lease runs out.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError

from network.clock import utcnow
from network.db.engine import Database
from network.jobs import leases
from network.jobs.registry import Clock, Counts, Job

LEASE = dt.timedelta(seconds=60)
POLL_SECONDS = 5.0

log = logging.getLogger("pointsnet.worker")


@dataclass(frozen=True)
class RunResult:
    """What happened to one job in one pass: ran (`ok`/`failed`), or `held` by another
    worker (`holder`). Jobs whose slot was already done give no result."""

    job: str
    slot: dt.datetime
    outcome: str
    counts: Counts | None = None
    error: str | None = None
    holder: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        """One line for the console, e.g. `expire: ok in 0.02 s (lots=3, points=120)`."""
        if self.outcome == "held":
            return f"{self.job}: running in {self.holder}, skipped"
        done = f"{self.job}: {self.outcome} in {self.seconds:.2f} s"
        if self.error:
            return f"{done}: {self.error}"
        counts = ", ".join(f"{name}={value}" for name, value in (self.counts or {}).items())
        return f"{done} ({counts})" if counts else done


def worker_name() -> str:
    """Host and process, so the lease and history say which process ran what; the random tail
    tells apart a process from a later one that got the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:200]


def describe_error(exc: BaseException) -> str:
    """The exception's type and first line only: the history is read by operators, and the
    lines after (a driver's DETAIL, SQLAlchemy's parameters) can quote the data, personal
    data included, that the job was working on. The full traceback goes to the log."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(inner).strip().splitlines()
    name = type(inner).__name__
    return (f"{name}: {lines[0].strip()}" if lines else name)[:500]


class Runner:
    def __init__(self, db: Database, jobs: Sequence[Job], *, zone: ZoneInfo,
                 clock: Clock = utcnow, lease: dt.timedelta = LEASE,
                 worker: str | None = None,
                 on_result: Callable[[RunResult], None] | None = None) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique, got {names}")
        self.db = db
        self.jobs = list(jobs)
        self.zone = zone
        self.clock = clock
        self.lease = lease
        self.worker = worker or worker_name()
        self.on_result = on_result or (lambda result: None)
        # Renew three times per lease, so one missed renewal (a slow database) loses nothing.
        self.renew_every = lease.total_seconds() / 3
        self.poll = min(POLL_SECONDS, lease.total_seconds() / 2)

    def run_due(self, stop: threading.Event | None = None) -> list[RunResult]:
        """One pass: run every job whose current slot is not done and not held elsewhere."""
        results = []
        for job in self.jobs:
            if stop is not None and stop.is_set():
                break
            result = self.run_if_due(job)
            if result is not None:
                results.append(result)
                self.on_result(result)
        return results

    def run_if_due(self, job: Job) -> RunResult | None:
        now = self.clock()
        slot = job.schedule.slot(now, self.zone)
        got = self.db.write(leases.claim, job.name, slot, self.worker, now, self.lease)
        if isinstance(got, leases.NotDue):
            return None
        if isinstance(got, leases.Held):
            return RunResult(job.name, slot, "held", holder=got.holder)
        return self._run(job, got)

    def _run(self, job: Job, claim: leases.Claim) -> RunResult:
        finished = threading.Event()
        heartbeat = threading.Thread(target=self._renew, args=(claim, finished),
                                     name=f"lease-{job.name}", daemon=True)
        heartbeat.start()
        started = time.monotonic()
        counts: Counts | None = None
        error: str | None = None
        try:
            counts = dict(job.run(self.db, self.clock))
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            log.exception("job %s failed", job.name)
            error = describe_error(exc)
        finally:
            finished.set()
            heartbeat.join()
        seconds = time.monotonic() - started
        if not self.db.write(leases.finish, claim, self.clock(), error=error, counts=counts):
            log.warning("job %s: the lease ran out during the run and another worker took it "
                        "over; the run is recorded, the slot is theirs", job.name)
        return RunResult(job.name, claim.slot, "failed" if error else "ok", counts=counts,
                         error=error, seconds=seconds)

    def _renew(self, claim: leases.Claim, finished: threading.Event) -> None:
        while not finished.wait(self.renew_every):
            try:
                if not self.db.write(leases.renew, claim, self.clock(), self.lease):
                    log.warning("job %s: lost its lease (it ran out); another worker may run "
                                "it too", claim.job)
                    return
            except Exception:  # noqa: BLE001 - a database blip: try again at the next beat
                log.exception("job %s: renewing the lease failed", claim.job)

    def seconds_to_wake(self) -> float:
        """Until the next slot of any job, at most `poll` (a dead holder's lease may run out)."""
        now = self.clock()
        upcoming = min(job.schedule.next_slot(now, self.zone) for job in self.jobs)
        return max(0.01, min(self.poll, (upcoming - now).total_seconds()))

    def run_forever(self, stop: threading.Event) -> None:
        """Passes until `stop` is set; a job running when it is set is finished first."""
        while not stop.is_set():
            try:
                self.run_due(stop)
            except Exception:  # noqa: BLE001 - the database is away: try again at the next wake
                log.exception("worker pass failed; trying again in %.0f s", self.poll)
                stop.wait(self.poll)
                continue
            stop.wait(self.seconds_to_wake())
