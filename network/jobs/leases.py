"""Who runs a job now, and what each run did: the lease rows and the run history.

Why a lease row and not `pg_try_advisory_lock`: it works on both databases the hub runs on
(`make run` runs the worker on SQLite), it shows who holds a job and until when with a plain
SELECT, and it needs no connection held open per job, so it also works through PgBouncer in
transaction pooling mode, where session advisory locks do not. Its price: a worker that dies
holding a lease blocks the job until the lease runs out (a minute by default), where a lock
would be freed at once; the runner renews the lease while the job runs, so a lease can be short.

Every function here is one short transaction (`Database.write`): claiming commits before the job
starts, so no lock is held while it works and a killed worker leaves only its lease and a
`running` row behind, both settled by the next claim.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from network.clock import as_utc
from network.jobs.registry import Counts
from network.jobs.schema import job_leases, job_runs


@dataclass(frozen=True)
class Claim:
    """A lease taken for one slot of one job, and its run row."""

    job: str
    slot: dt.datetime
    worker: str
    fence: int
    run_id: int


@dataclass(frozen=True)
class Held:
    """Another worker holds the job's lease, until `until` unless it renews it."""

    holder: str
    until: dt.datetime


class NotDue:
    """The slot is already done."""


NOT_DUE = NotDue()


def claim(conn: Connection, job: str, slot: dt.datetime, worker: str, now: dt.datetime,
          lease: dt.timedelta) -> Claim | Held | NotDue:
    """Take the job's lease for `slot` if that slot is not done and nobody holds the lease.

    The lease row is locked (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises the
    whole transaction), so of two workers claiming at once the second sees the first's lease.
    A lease that ran out means its holder stopped mid-run: that run is marked `interrupted`, and
    the slot, never finished, is run again.
    """
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(job_leases).values(job=job, fence=0).on_conflict_do_nothing())
    row = conn.execute(select(job_leases).where(job_leases.c.job == job)
                       .with_for_update()).one()
    if row.last_slot is not None and as_utc(row.last_slot) >= slot:
        return NOT_DUE
    if row.holder is not None:
        until = as_utc(row.expires_at)
        if until > now:
            return Held(row.holder, until)
        conn.execute(
            update(job_runs)
            .where(job_runs.c.job == job, job_runs.c.worker == row.holder,
                   job_runs.c.outcome == "running")
            .values(outcome="interrupted",
                    error=f"the worker stopped mid-run; its lease ran out at "
                          f"{until.isoformat(timespec='seconds')} and {worker} took over"[:500]))
    fence = row.fence + 1
    conn.execute(update(job_leases).where(job_leases.c.job == job)
                 .values(holder=worker, fence=fence, expires_at=now + lease))
    run_id = conn.execute(insert(job_runs).values(
        job=job, slot=slot, worker=worker, started_at=now, outcome="running")
    ).inserted_primary_key[0]
    return Claim(job, slot, worker, fence, run_id)


def renew(conn: Connection, held: Claim, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Push the lease on; False when it is no longer ours (it ran out and was taken over)."""
    result = conn.execute(
        update(job_leases)
        .where(job_leases.c.job == held.job, job_leases.c.holder == held.worker,
               job_leases.c.fence == held.fence)
        .values(expires_at=now + lease))
    return result.rowcount == 1


def finish(conn: Connection, held: Claim, now: dt.datetime, *, error: str | None,
           counts: Counts | None) -> bool:
    """Record the run's outcome and, if the lease is still ours, mark the slot done and free the
    lease. A failed run marks its slot done too: the job runs again at its next slot, rather
    than again and again in a loop while whatever broke it stays broken. Returns whether the
    lease was still ours."""
    conn.execute(update(job_runs).where(job_runs.c.id == held.run_id).values(
        finished_at=now, outcome="failed" if error is not None else "ok",
        error=None if error is None else error[:500],
        counts=None if counts is None else dict(counts)))
    result = conn.execute(
        update(job_leases)
        .where(job_leases.c.job == held.job, job_leases.c.holder == held.worker,
               job_leases.c.fence == held.fence)
        .values(holder=None, expires_at=None, last_slot=held.slot))
    return result.rowcount == 1


def last_slots(conn: Connection) -> dict[str, dt.datetime]:
    """Each job's last finished slot, for working out when to wake up next."""
    rows = conn.execute(select(job_leases.c.job, job_leases.c.last_slot)
                        .where(job_leases.c.last_slot.is_not(None)))
    return {row.job: as_utc(row.last_slot) for row in rows}


def prune(conn: Connection, before: dt.datetime, limit: int) -> int:
    """Forget up to `limit` finished runs that started before `before`; returns how many."""
    old = (select(job_runs.c.id)
           .where(job_runs.c.started_at < before, job_runs.c.outcome != "running")
           .limit(limit).scalar_subquery())
    return conn.execute(delete(job_runs).where(job_runs.c.id.in_(old))).rowcount


@dataclass(frozen=True)
class JobState:
    """What the lease and the history say about one job, for `pointsnet worker --status`."""

    job: str
    holder: str | None
    until: dt.datetime | None
    last_slot: dt.datetime | None
    last_outcome: str | None
    last_started: dt.datetime | None
    last_error: str | None


def states(conn: Connection, jobs: list[str]) -> list[JobState]:
    leased = {row.job: row for row in conn.execute(
        select(job_leases).where(job_leases.c.job.in_(jobs)))}
    found = []
    for job in jobs:
        lease = leased.get(job)
        last = conn.execute(select(job_runs).where(job_runs.c.job == job)
                            .order_by(job_runs.c.id.desc()).limit(1)).first()
        found.append(JobState(
            job=job,
            holder=lease.holder if lease else None,
            until=as_utc(lease.expires_at) if lease and lease.expires_at else None,
            last_slot=as_utc(lease.last_slot) if lease and lease.last_slot else None,
            last_outcome=last.outcome if last else None,
            last_started=as_utc(last.started_at) if last else None,
            last_error=last.error if last else None))
    return found
