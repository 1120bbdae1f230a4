"""The hub when PostgreSQL drops its connections (a restart, a failover, pg_terminate_backend).

Between requests an admin connection terminates every connection the hub (and this test) holds
to the test database, waiting until each backend has exited. The next request must not notice:
the pool and the per-thread statement connections replace a connection whose server hung up
before sending anything on it. When the database really is unavailable the answer is a 503 with
a JSON code and Retry-After, nothing is written, and the same request succeeds once it is back.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database, database_unavailable
from network.db.schema import parties
from network.ledger.verify import verify
from partners.client import PartnerClient
from partners.keys import create_key
from partners.registry import create_partner
from partners.terms import Terms
from tests.conftest import PG_ADMIN_URL, _libpq
from tests.partners.conftest import Hub, error_code, gql_body, operation, post_signed
from tests.support.hub_process import hub_process


def _admin() -> psycopg.Connection:
    return psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True)


def _terminate_all(db: Database) -> int:
    """Terminate every backend connected to `db`'s database; returns how many. The timeout makes
    pg_terminate_backend wait until each backend has exited, so the next request meets a
    connection that is already dead rather than racing its death."""
    name = make_url(db.url).database
    with _admin() as admin:
        row = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()", [name]).fetchone()
    assert row is not None
    return int(row[0])


@contextmanager
def _database_down(db: Database) -> Iterator[None]:
    """The database refuses new connections and has none open: what a hub sees while
    PostgreSQL restarts. Connections are allowed again on the way out, whatever happened."""
    name = make_url(db.url).database
    with _admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    try:
        _terminate_all(db)
        yield
    finally:
        with _admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def _enrol_card(hub: Hub) -> str:
    enrolled = hub.client().execute(operation("EnrolMember"), {"input": {"phone": "+31205550111"}})
    return enrolled["data"]["enrolMember"]["member"]["cardNumber"]


def test_requests_after_every_connection_was_terminated_all_succeed(hub: Hub) -> None:
    card = _enrol_card(hub)
    # One attempt only: the SDK's retries must not hide a failure the hub let through.
    client = hub.client(max_attempts=1)
    balance = 0
    for round_ in range(9):
        assert _terminate_all(hub.db) >= 1  # the hub held connections, and they are gone now
        step = round_ % 3
        if step == 0:
            answer = client.execute(operation("AwardPoints"), {"input": {
                "cardNumber": card, "amount": 1000 * (round_ + 1), "currency": "EUR"}},
                idempotency_key=f"award-{round_}")
            assert "errors" not in answer, answer
            points = answer["data"]["awardPoints"]["transaction"]["points"]
            assert points == 100 * (round_ + 1)  # amount is in cents; 10 points per euro
            balance += points
            assert answer["data"]["awardPoints"]["balanceAfter"] == balance
        elif step == 1:
            answer = client.execute(operation("LookUpMember"), {"cardNumber": card})
            assert "errors" not in answer, answer
            assert answer["data"]["partner"]["member"]["balance"] == balance
        else:
            answer = client.execute(operation("RedeemPoints"), {"input": {
                "cardNumber": card, "points": 7}}, idempotency_key=f"redeem-{round_}")
            assert "errors" not in answer, answer
            assert answer["data"]["redeemPoints"]["userErrors"] == []
            balance -= 7
            assert answer["data"]["redeemPoints"]["balanceAfter"] == balance
    assert balance > 0
    assert verify(hub.db) == []


def test_an_unavailable_database_answers_503_with_a_code_and_writes_nothing(hub: Hub) -> None:
    card = _enrol_card(hub)
    award = gql_body(operation("AwardPoints"), {"input": {
        "cardNumber": card, "amount": 2500, "currency": "EUR"}})
    lookup = gql_body(operation("LookUpMember"), {"cardNumber": card})
    before = hub.ledger_counts()
    with _database_down(hub.db):
        for body, key in ((award, "till-1"), (lookup, None), (award, "till-1")):
            response = post_signed(hub, body, idempotency_key=key)
            assert response.status_code == 503, response.text
            assert error_code(response) == "DATABASE_UNAVAILABLE"
            assert response.headers["retry-after"] == "2"
    assert hub.ledger_counts() == before  # nothing was written
    # Back up: the same request, signed afresh with the same key, awards once.
    for _ in range(2):
        response = post_signed(hub, award, idempotency_key="till-1")
        assert response.status_code == 200, response.text
        assert response.json()["data"]["awardPoints"]["transaction"]["points"] == 250
    entries, postings, lots = hub.ledger_counts()
    assert (entries, postings, lots) == (before[0] + 1, before[1] + 2, before[2] + 1)
    assert verify(hub.db) == []


def _insert_party(conn: object, code: str) -> None:
    conn.execute(insert(parties).values(  # type: ignore[attr-defined]
        kind="charity", code=code, name=code, created_at=datetime.now(UTC)))


def test_a_write_that_lost_its_connection_before_commit_runs_once_more(pg_db: Database) -> None:
    runs: list[int] = []

    def book(conn: object) -> None:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()  # type: ignore[attr-defined]
        runs.append(pid)
        if len(runs) == 1:  # the server ends this very connection mid-transaction
            with _admin() as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        _insert_party(conn, "lost-once")

    pg_db.write(book)
    assert len(runs) == 2 and runs[0] != runs[1]
    count = pg_db.read(lambda conn: conn.execute(
        select(func.count()).select_from(parties).where(parties.c.code == "lost-once")
    ).scalar_one())
    assert count == 1


def test_a_write_refused_by_an_unavailable_database_is_not_retried_forever(
        pg_db: Database) -> None:
    runs = 0

    def book(conn: object) -> None:
        nonlocal runs
        runs += 1
        _insert_party(conn, "never")

    with _database_down(pg_db):
        try:
            pg_db.write(book)
        except Exception as exc:  # noqa: BLE001 - the kind is what is checked
            assert database_unavailable(exc), exc
        else:
            raise AssertionError("the write succeeded against a database refusing connections")
    assert runs == 0  # no connection, so the function never ran
    assert pg_db.read(lambda conn: conn.execute(
        select(func.count()).select_from(parties).where(parties.c.code == "never")
    ).scalar_one()) == 0


def test_a_real_hub_with_two_workers_rides_through_terminated_connections(
        pg_db: Database) -> None:
    """The same over real HTTP: uvicorn with two worker processes, each with its own pool and
    per-thread statement connections; every answer between terminations is a plain success."""
    now = utcnow()

    def setup(conn: object) -> tuple[str, str]:
        partner = create_partner(conn, code="kiosk", name="Kiosk",
                                 terms=Terms(earn_points_per_unit=Decimal("2")), now=now)
        key, pem = create_key(conn, party_id=partner.id, now=now)
        return key.key_id, pem

    key_id, pem = pg_db.write(setup)
    with hub_process(pg_db.url, "restart-secret") as base, \
            PartnerClient(base, key_id, pem, max_attempts=1) as client:
        card = client.execute(operation("EnrolMember"), {"input": {"phone": "+31205550122"}}
                              )["data"]["enrolMember"]["member"]["cardNumber"]
        for round_ in range(6):
            assert _terminate_all(pg_db) >= 1
            awarded = client.execute(operation("AwardPoints"), {"input": {
                "cardNumber": card, "amount": 500, "currency": "EUR"}},
                idempotency_key=f"kiosk-{round_}")
            assert "errors" not in awarded, awarded
            assert awarded["data"]["awardPoints"]["balanceAfter"] == 10 * (round_ + 1)
            assert _terminate_all(pg_db) >= 1
            found = client.execute(operation("LookUpMember"), {"cardNumber": card})
            assert found["data"]["partner"]["member"]["balance"] == 10 * (round_ + 1)
    assert verify(pg_db) == []


@pytest.mark.parametrize(("error", "unavailable"), [
    (psycopg.OperationalError("connection failed: Connection refused"), True),  # no SQLSTATE
    (psycopg.errors.AdminShutdown("terminating connection"), True),  # 57P01
    (psycopg.errors.CannotConnectNow("the database system is starting up"), True),  # 57P03
    (psycopg.errors.TooManyConnections("too many clients"), True),  # 53300
    (psycopg.errors.ConnectionFailure("connection failure"), True),  # 08006
    (psycopg.errors.SerializationFailure("could not serialize"), False),  # retried elsewhere
    (psycopg.errors.QueryCanceled("statement timeout"), False),  # the statement, not the server
    (psycopg.errors.UniqueViolation("duplicate key"), False),
    (ValueError("not a database error"), False),
])
def test_which_errors_mean_the_database_is_unavailable(error: Exception,
                                                       unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable
    wrapped = OperationalError("SELECT 1", {}, error)  # as SQLAlchemy raises it
    assert database_unavailable(wrapped) is unavailable


def test_a_database_error_that_is_not_unavailability_stays_a_500(pg_db: Database) -> None:
    """The 503 is for 'try again later' only: a bug must not be dressed up as an outage."""
    errors = {"broken": IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("dup")),
              "down": OperationalError("SELECT", {}, psycopg.errors.AdminShutdown("bye"))}

    def failing(request: object, body: bytes) -> None:
        raise errors[json.loads(body)["query"]]

    settings = Settings(database_url=pg_db.url, env="test", secret_key="s")
    app = create_app(settings, pg_db, authenticators=[failing])
    with TestClient(app, raise_server_exceptions=False) as http:
        broken = http.post("/graphql", json={"query": "broken"})
        down = http.post("/graphql", json={"query": "down"})
    assert broken.status_code == 500
    assert (down.status_code, error_code(down)) == (503, "DATABASE_UNAVAILABLE")
    assert down.headers["retry-after"] == "2"


_DIE_ON_BOOKING = """
    CREATE FUNCTION die_on_booking() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
    CREATE TRIGGER die_on_booking BEFORE INSERT ON journal_entries
        FOR EACH ROW EXECUTE FUNCTION die_on_booking();
"""


def _stop_dying(db: Database) -> None:
    with psycopg.connect(_libpq(db.url), autocommit=True) as conn:
        conn.execute("DROP TRIGGER IF EXISTS die_on_booking ON journal_entries")
        conn.execute("DROP FUNCTION IF EXISTS die_on_booking()")


def test_a_connection_lost_in_the_middle_of_an_award_is_a_503_and_the_sdk_retry_awards_once(
        hub: Hub) -> None:
    """The server ends the connection inside the award's own statement (a trigger terminates its
    backend as the entry is inserted): the hub cannot know more than "not committed" and must not
    guess, so it answers 503; the SDK waits Retry-After and sends the same request with the same
    key, which awards exactly once. The sleep hook is where the database 'comes back'."""
    card = _enrol_card(hub)
    before = hub.ledger_counts()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        _stop_dying(hub.db)

    with psycopg.connect(_libpq(hub.db.url), autocommit=True) as conn:
        conn.execute(_DIE_ON_BOOKING)
    try:
        client = hub.client(sleep=sleep)
        awarded = client.execute(operation("AwardPoints"), {"input": {
            "cardNumber": card, "amount": 2500, "currency": "EUR"}}, idempotency_key="till-9")
    finally:
        _stop_dying(hub.db)
    assert slept == [2.0]  # one 503, honoured
    assert awarded["data"]["awardPoints"]["transaction"]["points"] == 250
    assert awarded["data"]["awardPoints"]["balanceAfter"] == 250
    entries, postings, lots = hub.ledger_counts()
    assert (entries, postings, lots) == (before[0] + 1, before[1] + 2, before[2] + 1)
    assert verify(hub.db) == []
