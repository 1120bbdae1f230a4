"""The hub's Prometheus metrics (`GET /metrics`, text format, the official prometheus-client).

Counters and histograms are module-level, updated where things happen: requests and their
latency by the request middleware (infra/logging_setup.py), refused signatures by the partner
authenticator, idempotent replays through `network.idempotency.replay_observers`, job runs by
the job runner. What lives in the database (outbox depth and age, the last good run of each
job) is read once per scrape by `DatabaseCollector`, so it is the same whichever process or
worker is asked.

`pointsnet serve --workers N` runs N processes: it sets PROMETHEUS_MULTIPROC_DIR (before any
worker imports this module, as prometheus-client requires) and a scrape sums every worker's
files (`MultiProcessCollector`). Gauges use "livesum": a dead worker's connections drop out.

Labels are bounded: `operation` is the root field names of the GraphQL operation (schema
names, never the caller's `operationName`), `outcome` an error code of the hub's own.
"""

from __future__ import annotations

import contextvars
import hmac
import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import event, func, select
from starlette.requests import Request
from starlette.responses import Response

from network.config import Settings
from network.db.engine import Database
from network.db.read_database import ReadDatabase
from network.jobs.schema import job_runs
from network.notifications.schema import notification_outbox

log = logging.getLogger("pointsnet.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The scrape's bearer token (Settings.extra reads every POINTSNET_* variable).
TOKEN_SETTING = "METRICS_TOKEN"

# Fast API calls take 2 to 20 ms; a 1,000-line batch up to a second or two.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("pointsnet_requests", "HTTP requests answered, by operation and outcome code",
                   ["operation", "outcome"])
LATENCY = Histogram("pointsnet_request_seconds", "Time to answer a request, by operation",
                    ["operation"], buckets=LATENCY_BUCKETS)
LEDGER_OPERATIONS = Counter("pointsnet_ledger_operations",
                            "Points-moving mutations, by mutation and outcome code",
                            ["operation", "outcome"])
REPLAYS = Counter("pointsnet_idempotent_replays",
                  "Requests answered from a stored idempotent response, by operation",
                  ["operation"])
SIGNATURES_REFUSED = Counter("pointsnet_signatures_refused",
                             "Partner requests refused by the signature checks, by code", ["code"])
JOB_RUNS = Counter("pointsnet_job_runs", "Job runs in this process, by job and outcome",
                   ["job", "outcome"])
JOB_SECONDS = Histogram("pointsnet_job_seconds", "How long a job run took", ["job"],
                        buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900))
POOL_IN_USE = Gauge("pointsnet_db_connections_in_use",
                    "Pooled database connections checked out now", multiprocess_mode="livesum")
POOL_OPEN = Gauge("pointsnet_db_connections_open",
                  "Pooled database connections open now", multiprocess_mode="livesum")

# Mutations that move points; their outcome is counted as ledger operations too.
LEDGER_MUTATIONS = frozenset({
    "awardPoints", "awardPointsBatch", "redeemPoints", "authorizeHold", "captureHold", "voidHold",
    "reverseEarn", "reverseRedemption", "donate", "enterLottery", "sendPoints", "acceptGift",
    "declineGift",
})

# The operation the current thread is answering, for counters updated deep inside it (replays).
current_operation: contextvars.ContextVar[str] = contextvars.ContextVar(
    "pointsnet_operation", default="-")


def _count_replay() -> None:
    REPLAYS.labels(current_operation.get()).inc()


def count_replays() -> None:
    """Count idempotent replays (called by create_app, once the ledger's modules are loaded:
    network.idempotency imported first would import them circularly)."""
    from network import idempotency

    if _count_replay not in idempotency.replay_observers:
        idempotency.replay_observers.append(_count_replay)


def observe_request(operation: str, outcome: str, seconds: float) -> None:
    REQUESTS.labels(operation, outcome).inc()
    LATENCY.labels(operation).observe(seconds)


def observe_ledger(operation: str, outcome: str) -> None:
    LEDGER_OPERATIONS.labels(operation, outcome).inc()


def observe_refused_signature(code: str) -> None:
    SIGNATURES_REFUSED.labels(code).inc()


def observe_job(job: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(job, outcome).inc()
    if outcome != "held":
        JOB_SECONDS.labels(job).observe(seconds)


def watch_pool(db: Database) -> None:
    """Count the engine's pooled connections (open, checked out) through pool events: per
    process, summed over the workers by the scrape. Idempotent per engine."""
    engine = db.engine
    if getattr(engine, "_pointsnet_watched", False):
        return
    engine._pointsnet_watched = True  # type: ignore[attr-defined]
    event.listen(engine, "connect", lambda *_: POOL_OPEN.inc())
    event.listen(engine, "close", lambda *_: POOL_OPEN.dec())
    event.listen(engine, "close_detached", lambda *_: POOL_OPEN.dec())
    event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())


class DatabaseCollector(Collector):
    """What the database knows, read at scrape time: the notification outbox's depth and the
    age of its oldest pending message, and each job's last successful run."""

    def __init__(self, db: Database, clock: Any = time.time) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterable[Metric]:
        # A database that does not answer is when metrics matter most: say so and carry on,
        # the counters still go out.
        try:
            depth, oldest, jobs = self.db.read(self._read)
        except Exception:  # noqa: BLE001 - any failure to read is "down" here
            log.warning("metrics: the database did not answer", exc_info=True)
            yield GaugeMetricFamily("pointsnet_database_up",
                                    "1 if the database answered this scrape's queries", value=0)
            return
        yield GaugeMetricFamily("pointsnet_database_up",
                                "1 if the database answered this scrape's queries", value=1)
        now = self.clock()
        yield GaugeMetricFamily("pointsnet_outbox_pending",
                                "Notifications waiting to be sent", value=depth)
        yield GaugeMetricFamily("pointsnet_outbox_oldest_pending_seconds",
                                "Age of the oldest pending notification (0 when none)",
                                value=max(0.0, now - oldest.timestamp()) if oldest else 0.0)
        last = GaugeMetricFamily("pointsnet_job_last_success_timestamp_seconds",
                                 "When each job last finished a run without error (any worker)",
                                 labels=["job"])
        for job, finished in jobs:
            last.add_metric([job], finished.timestamp())
        yield last

    @staticmethod
    def _read(conn: Any) -> tuple[int, Any, list[tuple[str, Any]]]:
        box = notification_outbox.c
        depth, oldest = conn.execute(
            select(func.count(), func.min(box.created_at)).where(box.status == "pending")).one()
        jobs = conn.execute(
            select(job_runs.c.job, func.max(job_runs.c.finished_at))
            .where(job_runs.c.outcome == "ok").group_by(job_runs.c.job).order_by(job_runs.c.job)
        ).all()
        return depth, _aware(oldest), [(job, _aware(at)) for job, at in jobs]


class ReadReplicaCollector(Collector):
    """Where this process's read models read, measured at scrape time if a second has passed
    (network/db/read_database.py): alert when the replica has been out of use for long."""

    def __init__(self, reads: ReadDatabase) -> None:
        self.reads = reads

    def collect(self) -> Iterable[Metric]:
        try:
            decision = self.reads.decision()
        except Exception:  # noqa: BLE001 - the primary not answering: the database gauge says so
            log.warning("metrics: could not measure the read replica", exc_info=True)
            return
        yield GaugeMetricFamily("pointsnet_read_replica_in_use",
                                "1 if read models read the replica now, 0 if the primary",
                                value=1 if decision.replica else 0)
        yield GaugeMetricFamily("pointsnet_read_replica_lag_seconds",
                                "How far behind the primary the replica was measured (+Inf: "
                                "unreachable, promoted, or too far behind to tell)",
                                value=decision.lag)


def _aware(value: Any) -> Any:
    """SQLite hands back naive datetimes; the hub stores UTC."""
    from datetime import UTC

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def scrape(db: Database, reads: ReadDatabase | None = None) -> bytes:
    """The text exposition: every worker's counters (multiprocess) or this process's, plus the
    database's gauges."""
    if os.environ.get(MULTIPROC_ENV):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)
    else:
        counters = REGISTRY  # this process's, plus its process and platform facts
    database = CollectorRegistry()
    database.register(DatabaseCollector(db))
    if reads is not None and reads.has_replica:
        database.register(ReadReplicaCollector(reads))
    return generate_latest(counters) + generate_latest(database)


def metrics_route(db: Database, settings: Settings, reads: ReadDatabase | None = None) -> Any:
    """GET /metrics. With POINTSNET_METRICS_TOKEN set, only `Authorization: Bearer <token>`
    is answered; in production without a token it is not served at all (404), so metrics are
    never public by accident. Development and test serve it openly."""
    token = settings.extra.get(TOKEN_SETTING, "")

    async def metrics(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return Response("metrics need Authorization: Bearer <POINTSNET_METRICS_TOKEN>\n",
                                status_code=401, media_type="text/plain",
                                headers={"WWW-Authenticate": "Bearer"})
        elif settings.production:
            return Response("set POINTSNET_METRICS_TOKEN to serve /metrics in production\n",
                            status_code=404, media_type="text/plain")
        body = await _in_thread(scrape, db, reads)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


async def _in_thread(fn: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)
