"""Settlement's periodic jobs: the KPI rollup refresh (added to the worker by infra/worker.py)."""

from __future__ import annotations

from dataclasses import asdict

from network.config import get_settings
from network.db.engine import Database
from network.jobs.registry import Clock, Counts, Job
from network.jobs.schedule import Every
from settlement.kpis import rollup

REFRESH_SECONDS = 900


def _refresh_kpis(db: Database, clock: Clock) -> Counts:
    # Each day is deleted and written again in one transaction of its own (rollup.py): a crash
    # keeps every day either as it was or whole, the next run redoes from two days before the
    # last finished day, and a second copy running beside it writes the same rows (one of the
    # two may fail on the primary key and leaves the other's).
    return asdict(rollup.refresh(db, clock(), get_settings().timezone))


def settlement_jobs() -> list[Job]:
    return [Job("kpi-rollups", Every(REFRESH_SECONDS), _refresh_kpis,
                "roll the ledger up into the dashboards' daily KPI rows (today and late days)")]
