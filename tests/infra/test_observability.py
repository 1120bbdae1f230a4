"""Health, readiness, the /metrics guard, the database's gauges, job metrics and the log
scrubber, through the real ASGI app on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from starlette.testclient import TestClient

from infra.app import create_app
from infra.graphql_endpoint import field_outcomes
from infra.logging_setup import JsonFormatter, log_level, request_id, scrub
from infra.metrics import scrape
from infra.worker import make_runner
from network.clock import utcnow
from network.config import ConfigError, Settings
from network.db.engine import Database
from network.jobs.registry import Job
from network.jobs.schedule import Every
from network.notifications.outbox import enqueue


def client(db: Database, **settings: object) -> TestClient:
    app = create_app(Settings(database_url=db.url, env="test", secret_key="s", **settings), db)
    return TestClient(app)


def gauges(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


@pytest.fixture
def hub(db: Database) -> Iterator[TestClient]:
    with client(db) as http:
        yield http


def test_healthz_and_readyz_when_all_is_well(hub: TestClient) -> None:
    assert hub.get("/healthz").json() == {"status": "ok"}
    ready = hub.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "current"}


def test_readyz_refuses_a_database_behind_the_migrations(db: Database,
                                                          hub: TestClient) -> None:
    def versions(conn: object) -> list[str]:
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())

    def set_versions(conn: object, names: list[str]) -> None:
        conn.execute(text("DELETE FROM alembic_version"))
        for name in names:
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": name})

    current = db.read(versions)
    db.write(set_versions, ["0007_signin_codes_by_address"])
    try:
        ready = hub.get("/readyz")
    finally:  # the PostgreSQL test database is shared by the session
        db.write(set_versions, current)
    assert ready.status_code == 503
    assert ready.json()["database"] == "ok"
    assert "0007_signin_codes_by_address" in ready.json()["migrations"]
    assert "pointsnet db upgrade" in ready.json()["migrations"]
    assert hub.get("/healthz").status_code == 200  # alive all the same: no restart wanted
    assert hub.get("/readyz").status_code == 200


def test_readyz_refuses_an_unreachable_database(pg_db: Database) -> None:
    gone = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                    connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url=pg_db.url, env="test", secret_key="s"), gone)
    with TestClient(app) as http:
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["database"] == "OperationalError"
        assert http.get("/healthz").status_code == 200


def test_metrics_need_the_token_when_one_is_set(db: Database) -> None:
    with client(db, extra={"METRICS_TOKEN": "scrape-me"}) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert scraped.status_code == 200
        assert "pointsnet_outbox_pending" in scraped.text


def test_metrics_are_not_served_in_production_without_a_token(db: Database) -> None:
    settings = Settings(database_url=db.url, env="production", secret_key="a-real-secret")
    app = create_app(settings, db)
    with TestClient(app) as http:
        refused = http.get("/metrics")
        assert refused.status_code == 404
        assert "POINTSNET_METRICS_TOKEN" in refused.text


def test_every_answer_carries_a_request_id(hub: TestClient) -> None:
    mine = hub.get("/healthz", headers={"X-Request-Id": "lb-4f2a9c11"})
    assert mine.headers["x-request-id"] == "lb-4f2a9c11"
    # An id that is not a plain token (it could carry anything into the logs) is replaced.
    odd = hub.post("/graphql", json={"query": "{ __typename }"},
                   headers={"X-Request-Id": "sara@example.com"})
    assert odd.headers["x-request-id"] != "sara@example.com"
    assert len(odd.headers["x-request-id"]) == 16
    assert odd.headers["x-request-id"] != hub.get("/healthz").headers["x-request-id"]


def test_outbox_depth_and_age_are_read_at_scrape_time(db: Database) -> None:
    assert gauges(scrape(db).decode())[("pointsnet_outbox_pending", ())] == 0
    queued = utcnow() - dt.timedelta(minutes=5)
    for address in ("a@example.com", "b@example.com"):
        db.write(lambda conn, to=address: enqueue(conn, channel="email", recipient=to,
                                                  subject="s", body="b", now=queued))
    found = gauges(scrape(db).decode())
    assert found[("pointsnet_outbox_pending", ())] == 2
    assert 300 <= found[("pointsnet_outbox_oldest_pending_seconds", ())] < 400


def test_job_runs_are_counted_and_their_last_success_read(db: Database) -> None:
    def ok(_db: Database, _clock: object) -> dict[str, int]:
        return {"done": 1}

    def broken(_db: Database, _clock: object) -> dict[str, int]:
        raise RuntimeError("boom")

    before = gauges(scrape(db).decode())
    settings = Settings(database_url=db.url, env="test", secret_key="s")
    jobs = [Job("metric-ok", Every(60), ok), Job("metric-broken", Every(60), broken)]
    make_runner(db, jobs, settings).run_due()
    after = gauges(scrape(db).decode())

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("pointsnet_job_runs_total", job="metric-ok", outcome="ok") == 1
    assert grew("pointsnet_job_runs_total", job="metric-broken", outcome="failed") == 1
    assert grew("pointsnet_job_seconds_count", job="metric-ok") == 1
    last = after[("pointsnet_job_last_success_timestamp_seconds", (("job", "metric-ok"),))]
    assert abs(last - utcnow().timestamp()) < 3600
    assert ("pointsnet_job_last_success_timestamp_seconds",
            (("job", "metric-broken"),)) not in after


def test_log_lines_are_json_with_the_request_id_and_scrubbed() -> None:
    token = request_id.set("req-12345678")
    try:
        try:
            raise ValueError("duplicate key (email)=(sara@example.com) card 6037 9911 2233 4455")
        except ValueError:
            record = logging.LogRecord("pointsnet.x", logging.ERROR, __file__, 1,
                                       "lookup of %s failed", ("+989121234567",), None)
            import sys

            record.exc_info = sys.exc_info()
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req-12345678"
    assert line["level"] == "error"
    assert line["message"] == "lookup of [number] failed"
    assert "sara@example.com" not in line["error"] and "[email]" in line["error"]
    assert "6037" not in line["error"] and "4455" not in line["error"]


@pytest.mark.parametrize(("raw", "clean"), [
    ("code 482913 sent", "code [number] sent"),
    ("phone +98 912 123 4567", "phone [number]"),
    ("[SQL: INSERT ...] [parameters: {'email': 'x@y.z'}] (Background", "[SQL: INSERT ...] "
     "[parameters: redacted] (Background"),
    ("Signature: sig1=:" + "A" * 86 + "==:", "Signature: [signature]"),
    ("job expire: ok in 0.02 s (lots=3)", "job expire: ok in 0.02 s (lots=3)"),
])
def test_scrub(raw: str, clean: str) -> None:
    assert scrub(raw) == clean


def test_log_level_setting() -> None:
    assert log_level({}) == logging.INFO
    assert log_level({"POINTSNET_LOG_LEVEL": "warning"}) == logging.WARNING
    with pytest.raises(ConfigError, match="POINTSNET_LOG_LEVEL must be"):
        log_level({"POINTSNET_LOG_LEVEL": "loud"})


def test_field_outcomes_pair_root_fields_with_their_answers() -> None:
    data = {"first": {"userErrors": []}, "second": {"userErrors": [{"code": "UNKNOWN_CARD"}]},
            "third": None}
    errors = [{"message": "no", "path": ["third"], "extensions": {"code": "FORBIDDEN"}}]
    assert field_outcomes(data, errors, ["awardPoints", "redeemPoints", "voidHold"]) == [
        ("awardPoints", "OK"), ("redeemPoints", "UNKNOWN_CARD"), ("voidHold", "FORBIDDEN")]
    assert field_outcomes(None, [{"message": "x", "extensions": {"code": "BAD_USER_INPUT"}}],
                          ["awardPoints"]) == [("awardPoints", "BAD_USER_INPUT")]


def test_metrics_still_answer_when_the_database_does_not(pg_db: Database) -> None:
    gone = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
                    connect_args={"connect_timeout": 2})
    app = create_app(Settings(database_url=pg_db.url, env="test", secret_key="s"), gone)
    with TestClient(app) as http:
        http.get("/healthz")
        scraped = http.get("/metrics")
    assert scraped.status_code == 200
    found = gauges(scraped.text)
    assert found[("pointsnet_database_up", ())] == 0
    assert found[("pointsnet_requests_total", (("operation", "/healthz"), ("outcome", "OK")))] >= 1
    assert ("pointsnet_outbox_pending", ()) not in found
    assert gauges(scrape(pg_db).decode())[("pointsnet_database_up", ())] == 1
