"""The runner on both databases, with a clock the test moves: each slot runs once, a failing job
is recorded and the others run, a dead worker's lease runs out and its job runs again. (Real
processes, signals and SIGKILL: tests/infra/test_worker.py.)"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from network.db.engine import Database
from network.jobs import Clock, Counts, DailyAt, Every, Job
from network.jobs import leases as lease_store
from network.jobs.catalogue import network_jobs
from network.jobs.runner import Runner, describe_error
from network.jobs.schema import job_leases, job_runs
from network.notifications.config import NotificationSettings

TEHRAN = ZoneInfo("Asia/Tehran")
LEASE = timedelta(seconds=60)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _runs(db: Database) -> list:
    return db.read(lambda conn: conn.execute(select(job_runs).order_by(job_runs.c.id)).all())


def _lease(db: Database, job: str):  # type: ignore[no-untyped-def]
    return db.read(lambda conn: conn.execute(
        select(job_leases).where(job_leases.c.job == job)).one())


def _counting(calls: list[str], name: str):  # type: ignore[no-untyped-def]
    def run(db: Database, clock: Clock) -> Counts:
        calls.append(name)
        return {"done": 1}
    return run


def _runner(db: Database, jobs: list[Job], clock: FakeClock, worker: str) -> Runner:
    return Runner(db, jobs, zone=TEHRAN, clock=clock, lease=LEASE, worker=worker)


def test_a_failing_job_is_recorded_with_its_error_and_the_others_still_run(db: Database) -> None:
    def boom(db: Database, clock: Clock) -> Counts:
        raise ValueError("the rate table is empty\nDETAIL: Key (email)=(a@example.com) exists")

    calls: list[str] = []
    clock = FakeClock(datetime(2026, 12, 7, 10, 0, 30, tzinfo=UTC))
    jobs = [Job("boom", Every(60), boom), Job("fine", Every(60), _counting(calls, "fine"))]
    runner = _runner(db, jobs, clock, "w1")
    results = runner.run_due()
    assert [(r.job, r.outcome) for r in results] == [("boom", "failed"), ("fine", "ok")]
    assert calls == ["fine"]
    boom_run, fine_run = _runs(db)
    assert (boom_run.outcome, boom_run.error, boom_run.counts) == (
        "failed", "ValueError: the rate table is empty", None)  # no second line, no address
    assert (fine_run.outcome, fine_run.error, fine_run.counts) == ("ok", None, {"done": 1})
    assert fine_run.finished_at is not None
    # The failed slot is done: it is not retried in a loop, but at its next slot.
    assert runner.run_due() == []
    clock.now += timedelta(seconds=60)
    assert [(r.job, r.outcome) for r in runner.run_due()] == [("boom", "failed"), ("fine", "ok")]
    assert calls == ["fine", "fine"]


def test_each_slot_runs_once_and_a_missed_daily_job_catches_up_once(db: Database) -> None:
    calls: list[str] = []
    clock = FakeClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 04:30 in Tehran
    job = Job("nightly", DailyAt(3, 0), _counting(calls, "nightly"))
    first, second = _runner(db, [job], clock, "w1"), _runner(db, [job], clock, "w2")
    assert [r.outcome for r in first.run_due()] == ["ok"]
    assert second.run_due() == []  # another worker, same slot: done already
    clock.now += timedelta(days=6, hours=5)  # nobody ran for six days
    assert [r.outcome for r in second.run_due()] == ["ok"]
    assert first.run_due() == [] and second.run_due() == []
    assert calls == ["nightly", "nightly"]
    slots = [run.slot.replace(tzinfo=UTC) if run.slot.tzinfo is None else run.slot
             for run in _runs(db)]
    assert slots == [datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # 03:00 Tehran, 1 December
                     datetime(2026, 12, 6, 23, 30, tzinfo=UTC)]   # 7 December's only


def test_a_dead_workers_job_waits_for_its_lease_then_runs_again(db: Database) -> None:
    calls: list[str] = []
    clock = FakeClock(datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC))
    job = Job("expire", Every(60), _counting(calls, "expire"))
    slot = job.schedule.slot(clock.now, TEHRAN)
    # Worker w1 claims the slot (a 10 s lease) and dies before finishing: its lease and its
    # `running` row stay behind.
    dead = db.write(lease_store.claim, "expire", slot, "w1", clock.now, timedelta(seconds=10))
    assert isinstance(dead, lease_store.Claim)
    survivor = _runner(db, [job], clock, "w2")
    [held] = survivor.run_due()
    assert (held.outcome, held.holder) == ("held", "w1")
    assert calls == []
    clock.now = slot + timedelta(seconds=16)  # the same slot, past w1's lease
    [ran] = survivor.run_due()
    assert (ran.outcome, ran.slot, calls) == ("ok", slot, ["expire"])
    first, second = _runs(db)
    assert (first.worker, first.outcome, first.finished_at) == ("w1", "interrupted", None)
    assert "lease ran out" in first.error and "w2 took over" in first.error
    assert (second.worker, second.outcome) == ("w2", "ok")
    lease = _lease(db, "expire")
    assert (lease.holder, lease.expires_at) == (None, None)
    # The dead worker, had it only been frozen, cannot free or renew its successor's lease.
    assert not db.write(lease_store.finish, dead, clock.now, error=None, counts={})
    assert not db.write(lease_store.renew, dead, clock.now, LEASE)


def test_the_history_job_forgets_finished_runs_older_than_30_days(db: Database) -> None:
    [history] = [job for job in network_jobs(NotificationSettings()) if job.name == "job-history"]
    now = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    rows = [("expire", old, "ok"), ("expire", old, "failed"), ("expire", old, "running"),
            ("notifications", recent, "ok")]
    db.write(lambda conn: conn.execute(insert(job_runs), [
        {"job": job, "slot": at, "worker": "w0", "started_at": at, "outcome": outcome}
        for job, at, outcome in rows]))
    assert history.run(db, FakeClock(now)) == {"runs": 2}
    # A `running` row is a worker's claim (or an interrupted run not yet taken over): kept.
    assert [(run.job, run.outcome) for run in _runs(db)] == [("expire", "running"),
                                                           ("notifications", "ok")]


def test_a_run_error_is_its_type_and_first_line_only() -> None:
    from sqlalchemy.exc import IntegrityError

    class DriverError(Exception):
        pass

    driver = DriverError('duplicate key value violates unique constraint "uq_members_phone"\n'
                         "DETAIL:  Key (phone)=(+989351112233) already exists.")
    wrapped = IntegrityError("INSERT INTO members ...", {"phone": "+989351112233"}, driver)
    assert describe_error(wrapped) == (
        'DriverError: duplicate key value violates unique constraint "uq_members_phone"')
    assert describe_error(RuntimeError()) == "RuntimeError"
    assert describe_error(ValueError("at 10:")) == "ValueError: at 10:"


def test_a_job_longer_than_its_lease_keeps_it_by_renewing(db: Database) -> None:
    """A 2 s lease renewed every 2/3 s: 2.5 s into the job, another worker still finds it held."""
    seen = []
    calls = []

    def long_job(db: Database, clock: Clock) -> Counts:
        calls.append(clock())
        if len(calls) == 1:  # w1's run; w2's, were it (wrongly) to run, returns at once
            time.sleep(2.5)  # past the lease as first taken
            seen.append(other.run_if_due(job))
        return {}

    job = Job("long", Every(3600), long_job)
    runner = Runner(db, [job], zone=TEHRAN, lease=timedelta(seconds=2), worker="w1")
    other = Runner(db, [job], zone=TEHRAN, lease=timedelta(seconds=2), worker="w2")
    [result] = runner.run_due()
    assert result.outcome == "ok"
    [held] = seen
    assert held is not None and (held.outcome, held.holder) == ("held", "w1")
    assert [run.worker for run in _runs(db)] == ["w1"] and len(calls) == 1
