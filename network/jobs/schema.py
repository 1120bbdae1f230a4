"""The worker's tables: one lease row per job, and the history of every run."""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, String, Table

from network.db.schema import BigId, Timestamp, metadata

# One row per job, made on the job's first claim. `holder` and `expires_at` are set while a
# worker runs the job (the lease, renewed by the runner); `fence` counts claims, so a worker
# whose lease ran out and was taken over cannot release or renew its successor's lease;
# `last_slot` is the start of the last slot a run finished (ok or failed).
job_leases = Table(
    "job_leases",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("holder", String(200), nullable=True),
    Column("fence", Integer, nullable=False),
    Column("expires_at", Timestamp, nullable=True),
    Column("last_slot", Timestamp, nullable=True),
)

# outcome: running -> ok | failed, or -> interrupted when the worker died holding the lease and
# another took the job over. `error` is the exception's type and first line, never the data it
# was working on; `counts` is what the run did ({"lots": 3, "points": 120, ...}).
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False),
    Column("slot", Timestamp, nullable=False),
    Column("worker", String(200), nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=True),
    Column("outcome", String(12), nullable=False),
    Column("error", String(500), nullable=True),
    Column("counts", JSON, nullable=True),
    CheckConstraint("outcome IN ('running', 'ok', 'failed', 'interrupted')", name="outcome"),
)
Index("ix_job_runs_job_started", job_runs.c.job, job_runs.c.started_at)
