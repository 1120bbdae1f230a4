"""Periodic jobs: what runs, when (schedule.py), and how exactly one worker runs each slot
(leases.py, runner.py). Each package lists its own jobs (network's in catalogue.py); the worker
process in infra/worker.py gathers them all."""

from network.jobs.registry import Clock, Counts, Job
from network.jobs.schedule import DailyAt, Every, Schedule

__all__ = ["Clock", "Counts", "DailyAt", "Every", "Job", "Schedule"]
