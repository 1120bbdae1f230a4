"""The worker's webhook job (infra/worker.py adds it to the network's jobs: network cannot
import partners)."""

from __future__ import annotations

from dataclasses import asdict

from network.config import get_settings
from network.db.engine import Database
from network.jobs.registry import Clock, Counts, Job
from network.jobs.schedule import Every
from partners.webhooks.delivery import drain


def _deliver(db: Database, clock: Clock) -> Counts:
    # Deliveries are claimed with a lease of their own (delivery.py): a crash between sending
    # and recording sends that delivery again once the lease runs out (at least once; the
    # receiver deduplicates by webhook-id), and each outcome is recorded in its own transaction.
    return asdict(drain(db, clock, secret_key=get_settings().secret_key))


def webhook_jobs() -> list[Job]:
    return [Job("webhooks", Every(5), _deliver,
                "send partners' webhook deliveries that are due, and retries")]
