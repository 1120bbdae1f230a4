"""A worker process with test jobs, for tests/infra/test_worker.py: the real worker code
(infra.worker.make_runner and run_worker, signals included) over jobs that write a row to a
scratch table and can sleep inside that transaction (WORKER_TEST_SLEEP seconds), so a test can
kill the process mid-job.

    python -m tests.support.worker_jobs --db URL [--once] [--jobs tick,slow] [--lease-seconds 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from sqlalchemy import text

from infra.worker import make_runner, run_worker, select_jobs
from network.config import Settings
from network.db.engine import Database
from network.jobs import Clock, Counts, DailyAt, Every, Job

EFFECTS = "worker_test_effects"
CREATE_EFFECTS = (f"CREATE TABLE IF NOT EXISTS {EFFECTS} (id serial PRIMARY KEY, "
                  "job text NOT NULL, worker_pid integer NOT NULL)")


def _effect(name: str):  # type: ignore[no-untyped-def]
    def run(db: Database, clock: Clock) -> Counts:
        def work(conn):  # type: ignore[no-untyped-def]
            conn.execute(text(f"INSERT INTO {EFFECTS} (job, worker_pid) VALUES (:job, :pid)"),
                         {"job": name, "pid": os.getpid()})
            print(f"inside {name}", flush=True)  # the test may kill us from here on
            time.sleep(float(os.environ.get("WORKER_TEST_SLEEP", "0")))
        db.write(work)
        return {"effects": 1}
    return run


def _boom(db: Database, clock: Clock) -> Counts:
    raise RuntimeError("boom: the test job failed\nDETAIL: a second line the history must drop")


JOBS = [
    Job("tick", Every(1), _effect("tick")),
    Job("slow", DailyAt(0, 0), _effect("slow")),
    Job("boom", DailyAt(0, 0), _boom),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--jobs")
    parser.add_argument("--lease-seconds", type=int, default=60)
    args = parser.parse_args()
    db = Database(args.db)
    settings = Settings(database_url=args.db, env="test", secret_key="test-secret")
    runner = make_runner(db, select_jobs(JOBS, args.jobs), settings,
                         lease=dt.timedelta(seconds=args.lease_seconds),
                         on_result=lambda result: print(f"ran {result.line()}", flush=True))
    print(f"worker {runner.worker}", flush=True)
    try:
        run_worker(runner, once=args.once)
    finally:
        db.dispose()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
