"""`pointsnet worker` as real processes on real PostgreSQL: two workers run each slot once, a
worker killed mid-job leaves nothing half-done and the job runs again, SIGTERM lets the running
job finish, `--once` runs what is due and exits, a failing job is recorded and the rest run.

The test jobs (tests/support/worker_jobs.py) run under the real worker code and write a row to a
scratch table, sleeping inside that transaction when asked."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from infra.cli import main
from network import ledger
from network.clock import as_utc, utcnow
from network.config import get_settings
from network.db.engine import Database
from network.db.schema import lots
from network.jobs import Counts, Every, Job, leases
from network.jobs.schema import job_leases, job_runs
from network.notifications.outbox import enqueue
from network.notifications.schema import notification_outbox
from tests.support import ledger_world as w
from tests.support.hub_process import _free_port
from tests.support.worker_jobs import CREATE_EFFECTS, EFFECTS

ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 120  # seconds before a test gives up waiting for a process (a hang, not a timing)


class Worker:
    """A worker subprocess whose stdout lines arrive on a queue."""

    def __init__(self, db: Database, *args: str, sleep: float = 0, module: bool = True,
                 command: str = "worker") -> None:
        """`module`: the test jobs' worker (tests/support/worker_jobs.py); otherwise the real
        `pointsnet <command>`."""
        env = {**os.environ, "WORKER_TEST_SLEEP": str(sleep), "POINTSNET_DATABASE_URL": db.url,
               "POINTSNET_ENV": "test", "POINTSNET_SECRET_KEY": "test-secret"}
        argv = ([sys.executable, "-m", "tests.support.worker_jobs", "--db", db.url]
                if module else [sys.executable, "-m", "infra.cli", command])
        self.process = subprocess.Popen([*argv, *args], cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, prefix: str) -> str:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        self.process.kill()
        pytest.fail(f"no line {prefix!r}; output {self.seen}, stderr "
                    f"{self.process.stderr.read() if self.process.stderr else ''}")

    def finish(self) -> tuple[int, list[str]]:
        code = self.process.wait(PATIENCE)
        while (line := self.lines.get(timeout=PATIENCE)) is not None:
            self.seen.append(line)
        return code, self.seen


@pytest.fixture
def scratch(pg_db: Database) -> Iterator[Database]:
    """pg_db with the test jobs' table, dropped afterwards (the migration test compares the
    session database's tables with the code's)."""
    with pg_db.engine.begin() as conn:
        conn.execute(text(CREATE_EFFECTS))
    yield pg_db
    with pg_db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {EFFECTS}"))


def _effects(db: Database) -> list[tuple[str, int]]:
    return db.read(lambda conn: [tuple(row) for row in conn.execute(
        text(f"SELECT job, worker_pid FROM {EFFECTS} ORDER BY id"))])


def _runs(db: Database) -> list:
    return db.read(lambda conn: conn.execute(select(job_runs).order_by(job_runs.c.id)).all())


def _lease(db: Database, job: str):  # type: ignore[no-untyped-def]
    return db.read(lambda conn: conn.execute(
        select(job_leases).where(job_leases.c.job == job)).one())


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def test_two_workers_run_each_slot_of_a_job_once(scratch: Database) -> None:
    # `tick` runs every second and takes 0.3 s inside its transaction; both workers wake on the
    # same second boundaries, so they contend for every slot.
    workers = [Worker(scratch, "--jobs", "tick", sleep=0.3) for _ in range(2)]
    names = [worker.wait_for("worker ").split()[1] for worker in workers]
    _wait_until(lambda: sum(run.outcome == "ok" for run in _runs(scratch)) >= 6)
    for worker in workers:
        worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        code, _ = worker.finish()
        assert code == 0
    runs = _runs(scratch)
    assert {run.outcome for run in runs} == {"ok"}  # none failed, none cut off by SIGTERM
    slots = [run.slot for run in runs]
    assert len(slots) == len(set(slots)) >= 6  # never two runs in one slot
    assert {run.worker for run in runs} <= set(names)
    assert len(_effects(scratch)) == len(runs)  # and the job itself ran once per run
    assert _lease(scratch, "tick").holder is None


def test_a_worker_killed_mid_job_leaves_nothing_half_done_and_the_job_runs_again(
        scratch: Database) -> None:
    doomed = Worker(scratch, "--once", "--jobs", "slow", "--lease-seconds", "2", sleep=600)
    name = doomed.wait_for("worker ").split()[1]
    doomed.wait_for("inside slow")  # its row is written, its transaction open
    doomed.process.kill()
    assert doomed.process.wait(PATIENCE) == -signal.SIGKILL
    assert _effects(scratch) == []  # the open transaction died with the process
    [cut] = _runs(scratch)
    assert (cut.worker, cut.outcome, cut.finished_at) == (name, "running", None)
    lease = _lease(scratch, "slow")
    assert lease.holder == name and lease.last_slot is None  # held, slot not done
    # Nobody renews it any more: once it runs out, the next worker runs the job again.
    _wait_until(lambda: utcnow() > as_utc(_lease(scratch, "slow").expires_at))
    again = Worker(scratch, "--once", "--jobs", "slow", "--lease-seconds", "2")
    code, out = again.finish()
    assert code == 0, out
    assert any(line.startswith("ran slow: ok") for line in out), out
    assert _effects(scratch) == [("slow", again.process.pid)]  # exactly once, by the survivor
    cut, done = _runs(scratch)
    assert cut.outcome == "interrupted" and "lease ran out" in cut.error
    assert done.outcome == "ok" and done.slot >= cut.slot
    lease = _lease(scratch, "slow")
    assert (lease.holder, lease.last_slot) == (None, done.slot)


def test_sigterm_lets_the_running_job_finish_then_exits_0(scratch: Database) -> None:
    worker = Worker(scratch, "--jobs", "slow", sleep=2)
    worker.wait_for("inside slow")
    worker.process.send_signal(signal.SIGTERM)
    code, out = worker.finish()
    assert code == 0
    assert [line for line in out if line.startswith("ran ")] == [out[-2]]
    assert out[-2].startswith("ran slow: ok") and out[-1] == "stopped"
    assert _effects(scratch) == [("slow", worker.process.pid)]
    [run] = _runs(scratch)
    assert run.outcome == "ok" and run.finished_at is not None


def test_a_failing_job_is_recorded_and_the_worker_goes_on(scratch: Database) -> None:
    code, out = Worker(scratch, "--once", "--jobs", "boom,slow").finish()
    assert code == 0
    boom_line, slow_line = [line for line in out if line.startswith("ran ")]
    assert boom_line.startswith("ran boom: failed")
    assert boom_line.endswith("RuntimeError: boom: the test job failed")
    assert slow_line.startswith("ran slow: ok")
    boom, slow = _runs(scratch)
    assert (boom.job, boom.outcome, boom.error) == (
        "boom", "failed", "RuntimeError: boom: the test job failed")
    assert (slow.job, slow.outcome, slow.counts) == ("slow", "ok", {"effects": 1})


def test_pointsnet_worker_once_runs_the_due_jobs_and_exits_0(pg_db: Database) -> None:
    cafe = w.partner(pg_db, "cafe")
    member = w.member(pg_db)
    now = utcnow()
    ledger.earn(pg_db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=member,
                points=10, vests_at=now - timedelta(days=3), expires_at=now - timedelta(days=1),
                now=now - timedelta(days=3))
    pg_db.write(lambda conn: enqueue(conn, channel="email", recipient="john@example.com",
                                     subject="Your code", body="123456", now=now))
    code, out = Worker(pg_db, "--once", module=False).finish()
    assert code == 0, out
    (expire, drain, earned, vested, expiring, tier_messages, births, tiers, tier_facts,
     segments, history, coupons, hooks, kpis) = [
        line for line in out if line.startswith("worker: ")]
    # the member's only earn was three days ago and has expired: nothing to tell them
    assert earned.startswith("worker: earned-messages: ok") and "queued=0" in earned
    assert vested.startswith("worker: vested-messages: ok") and "queued=0" in vested
    assert expiring.startswith("worker: expiry-messages: ok") and "queued=0" in expiring
    assert hooks.startswith("worker: webhooks: ok") and "delivered=0" in hooks
    assert tier_messages.startswith("worker: tier-messages: ok") and "queued=0" in tier_messages
    assert tier_facts.startswith("worker: tier-facts: ok") and "raised=0" in tier_facts
    assert births.startswith("worker: birthdays: ok") and "due=0" in births
    # The member's 10 points count for the window but reach no tier above blue.
    assert tiers.startswith("worker: tiers: ok") and "members=1" in tiers
    assert "upgraded=0" in tiers and "downgraded=0" in tiers
    assert history.startswith("worker: job-history: ok") and "runs=0" in history
    assert coupons.startswith("worker: coupons: ok") and "expired=0" in coupons
    # The member's earn three days ago is the ledger's first day: that day to today rolled up.
    assert kpis.startswith("worker: kpi-rollups: ok") and "days=4" in kpis
    # The member earned in the window, so RFM scored one member.
    assert segments.startswith("worker: segments: ok") and "rfm_scored=1" in segments
    assert expire.startswith("worker: expire: ok") and "lots=1, points=10" in expire
    assert drain.startswith("worker: notifications: ok") and "sent=1" in drain
    assert any(line.startswith("NOTIFY email") for line in out)  # the console sender's line
    assert pg_db.read(lambda conn: conn.execute(select(lots.c.remaining)).scalar_one()) == 0
    assert pg_db.read(lambda conn: conn.execute(
        select(notification_outbox.c.status)).scalar_one()) == "sent"
    runs = _runs(pg_db)
    assert [(run.job, run.outcome) for run in runs] == [
        ("expire", "ok"), ("notifications", "ok"), ("earned-messages", "ok"),
        ("vested-messages", "ok"), ("expiry-messages", "ok"), ("tier-messages", "ok"),
        ("birthdays", "ok"), ("tiers", "ok"), ("tier-facts", "ok"), ("segments", "ok"),
        ("job-history", "ok"), ("coupons", "ok"), ("webhooks", "ok"), ("kpi-rollups", "ok")]
    assert runs[0].counts == {"members": 1, "lots": 1, "points": 10, "holds": 0}


def test_worker_once_exits_1_when_a_job_failed_and_refuses_unknown_jobs(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(db: Database, clock: Callable[[], datetime]) -> Counts:
        raise RuntimeError("no relay")

    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    monkeypatch.setattr("infra.worker.all_jobs", lambda notify: [
        Job("broken", Every(60), broken), Job("fine", Every(60), lambda db, clock: {"n": 2})])
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["worker", "--once"])
        assert result.exit_code == 1, result.output
        assert result.stdout.splitlines()[0].startswith("worker: broken: failed")
        assert result.stdout.splitlines()[0].endswith("RuntimeError: no relay")
        assert result.stdout.splitlines()[1].startswith("worker: fine: ok")
        again = CliRunner().invoke(main, ["worker", "--once", "--jobs", "fine"])
        # Same minute: done already (unless the minute turned in between, then it ran again).
        assert again.exit_code == 0
        assert again.stdout == "worker: nothing due\n" or again.stdout.startswith(
            "worker: fine: ok")
        # --status: what ran last and who holds what (a worker's lease, claimed by hand here).
        sqlite_db.write(leases.claim, "fine", utcnow() + timedelta(minutes=5), "host:77:abc",
                        utcnow(), timedelta(seconds=60))
        status = CliRunner().invoke(main, ["worker", "--status"])
        assert status.exit_code == 0, status.output
        broken_line, fine_line = status.stdout.splitlines()
        assert broken_line.startswith("broken: every 60 s; last slot done 20")
        assert broken_line.endswith(" UTC: RuntimeError: no relay")
        assert "; last run failed, started 20" in broken_line
        assert "; last run running, started " in fine_line
        assert "; held by host:77:abc until 20" in fine_line
        unknown = CliRunner().invoke(main, ["worker", "--jobs", "fine,nope"])
        assert unknown.exit_code == 2
        assert unknown.stderr == ("pointsnet: error: UNKNOWN_JOB: --jobs names no job nope; "
                                  "the jobs are broken, fine\n")
    finally:
        get_settings.cache_clear()


def test_serve_with_worker_runs_the_jobs_beside_the_hub_and_stops_with_it(
        sqlite_db: Database) -> None:
    """What `make run` starts: the hub and, in a thread of its process, the worker."""
    port = str(_free_port())
    hub = Worker(sqlite_db, "--port", port, "--worker", module=False, command="serve")
    hub.wait_for("points network hub on")
    _wait_until(lambda: {run.job for run in _runs(sqlite_db) if run.outcome == "ok"}
                >= {"expire", "notifications", "job-history"})

    def answers() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    _wait_until(answers)  # and the hub serves beside it
    hub.process.send_signal(signal.SIGINT)  # Ctrl-C
    code, _ = hub.finish()
    assert code == 0
    assert {lease.holder for lease in sqlite_db.read(
        lambda conn: conn.execute(select(job_leases)).all())} == {None}  # nothing left held


def test_pointsnet_worker_logs_json_lines_like_the_hub(pg_db: Database) -> None:
    """The standalone worker's stderr is the hub's log format: one JSON object per line, each
    run a line with its job, outcome, seconds and counts; nothing in plain text."""
    cafe = w.partner(pg_db, "cafe")
    member = w.member(pg_db)
    now = utcnow()
    ledger.earn(pg_db, scope="p", idempotency_key="e", issuer_id=cafe, member_id=member,
                points=10, vests_at=now - timedelta(days=3), expires_at=now - timedelta(days=1),
                now=now - timedelta(days=3))
    worker = Worker(pg_db, "--jobs", "expire", module=False)
    _wait_until(lambda: any(run.outcome == "ok" for run in _runs(pg_db)))
    worker.process.send_signal(signal.SIGTERM)
    code, out = worker.finish()
    assert code == 0
    assert out == []  # long-running: the runs are log lines, not a report on stdout
    assert worker.process.stderr is not None
    lines = [json.loads(line) for line in worker.process.stderr.read().splitlines()]
    started, ran = lines[0], lines[1]
    assert started["logger"] == "pointsnet.worker" and started["level"] == "info"
    assert started["message"] == "worker started: expire" and started["worker"].count(":") == 2
    assert (ran["job"], ran["outcome"]) == ("expire", "ok")
    assert (ran["counts"]["lots"], ran["counts"]["points"]) == (1, 10)
    assert ran["worker"] == started["worker"] and ran["seconds"] >= 0
    assert ran["message"].startswith("expire: ok in ") and {"ts", "request_id"} <= set(ran)
