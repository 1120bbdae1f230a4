"""`pointsnet worker`: the one process that runs every periodic job (network/jobs/).

Run as many as you like, on as many machines: each slot of each job runs once, in whichever
worker claims its lease first. SIGTERM or Ctrl-C lets the running job finish, then the worker
exits 0; a second one stops it at once, which is safe too (the job's open transaction is rolled
back and the job runs again once its lease runs out). `serve --worker` runs the same loop in a
thread of the hub's process (`start_in_background`).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from network.cli_errors import CommandError
from network.config import Settings
from network.db.engine import Database
from network.jobs import Job, leases
from network.jobs.catalogue import network_jobs
from network.jobs.runner import LEASE, Runner, RunResult
from network.notifications.config import NotificationSettings
from network.programme import reward_grants

# The partners' contracts tell the programme how long a partner-funded bonus lasts (the birthday
# job books them): importing the module registers that reader (network/programme/fact_awards.py).
from partners import contracts as _contracts  # noqa: F401
from partners.webhooks.jobs import webhook_jobs
from settlement.kpis.jobs import settlement_jobs

# The facts the jobs book (birthdays, tier changes) may wake campaigns that give a catalog
# reward or lottery entries: the earn gives them through this desk (earn.CatalogDesk).
reward_grants.install()

log = logging.getLogger("pointsnet.worker")


def log_result(result: RunResult, worker: str) -> None:
    """One JSON line per run (infra/logging_setup.py, as the hub's): the console line as the
    message, and the job, outcome, seconds and counts as fields a log search can filter on. A
    failed run is a warning; its traceback was logged by the runner as an error already."""
    level = logging.WARNING if result.outcome == "failed" else logging.INFO
    log.log(level, "%s", result.line(), extra={
        "job": result.job, "outcome": result.outcome, "worker": worker,
        "seconds": round(result.seconds, 3) if result.outcome != "held" else None,
        "counts": dict(result.counts) if result.counts else None})


def all_jobs(notify: NotificationSettings) -> list[Job]:
    """Every package's jobs, in the order a pass runs them (partners' and settlement's jobs
    are added here as they come: network cannot import them)."""
    return [*network_jobs(notify), *webhook_jobs(), *settlement_jobs()]


def select_jobs(jobs: Sequence[Job], names: str | None) -> list[Job]:
    """`--jobs a,b`: those jobs, in the order given; an unknown name is UNKNOWN_JOB."""
    if names is None:
        return list(jobs)
    by_name = {job.name: job for job in jobs}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in by_name]
    if unknown or not wanted:
        raise CommandError("UNKNOWN_JOB", f"--jobs names no job {', '.join(unknown) or '(empty)'}"
                           f"; the jobs are {', '.join(by_name)}")
    return [by_name[name] for name in dict.fromkeys(wanted)]


def make_runner(db: Database, jobs: Sequence[Job], settings: Settings, *,
                lease: dt.timedelta = LEASE,
                on_result: Callable[[RunResult], None] | None = None) -> Runner:
    """A runner whose every result is also counted (pointsnet_job_runs, pointsnet_job_seconds)."""
    from infra.metrics import observe_job

    def observed(result: RunResult) -> None:
        observe_job(result.job, result.outcome, result.seconds)
        if on_result is not None:
            on_result(result)

    return Runner(db, jobs, zone=ZoneInfo(settings.timezone), lease=lease, on_result=observed)


def run_worker(runner: Runner, *, once: bool) -> list[RunResult]:
    """Run in the foreground until SIGTERM/SIGINT (or one pass with `once`); the results of
    the passes run with `once`, none otherwise (`on_result` sees each as it comes)."""
    stop = threading.Event()

    def first_signal(signum: int, _frame: object) -> None:
        stop.set()
        # The next signal acts as if we had installed nothing: stop now.
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM
                      else signal.default_int_handler)

    previous = {sig: signal.signal(sig, first_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if once:
            return runner.run_due(stop)
        runner.run_forever(stop)
        return []
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_in_background(runner: Runner) -> Callable[[float], None]:
    """The worker loop in a daemon thread; returns `stop(timeout)`, which lets the running job
    finish (up to `timeout` seconds) and ends the loop."""
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), name="pointsnet-worker",
                              daemon=True)
    thread.start()

    def stop_worker(timeout: float) -> None:
        stop.set()
        thread.join(timeout)

    return stop_worker


def status_lines(db: Database, jobs: Sequence[Job], settings: Settings) -> list[str]:
    """`worker --status`: one line per job, times in POINTSNET_TIMEZONE."""
    zone = ZoneInfo(settings.timezone)

    def at(moment: dt.datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "never"

    by_name = {job.name: job for job in jobs}
    lines = []
    for state in db.read(leases.states, list(by_name)):
        line = (f"{state.job}: {by_name[state.job].schedule.describe()}; "
                f"last slot done {at(state.last_slot)}")
        if state.last_outcome is not None:
            line += f"; last run {state.last_outcome}, started {at(state.last_started)}"
            if state.last_error:
                line += f": {state.last_error}"
        if state.holder is not None:
            line += f"; held by {state.holder} until {at(state.until)}"
        lines.append(line)
    return lines
