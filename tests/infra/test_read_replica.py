"""The read replica: `me` (the wallet's read model) is served by a streaming standby while it is
within POINTSNET_READ_MAX_LAG_SECONDS of the primary, by the primary past that bound or when the
standby is stopped, and a write decision (a donation's balance check) never reads the standby.

Real parts: a primary and a streaming standby made with Debian's binaries, the hub's ASGI app,
GraphQL over HTTP. Only the replica router's clock is a test clock, so "2 s behind" and "8 s
behind" are exact instead of slept. The proof that a read came from the standby is that it
shows what only the standby still shows: with replay paused, the points earned since.
"""

from __future__ import annotations

import re
import warnings
from collections import deque
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from graphene import relay

from infra.app import create_app
from infra.migrate import upgrade
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.read_database import APPLICATION_NAME, ReadDatabase, staleness
from network.hashing import Keys
from network.signin import sessions
from tests.network import wallet_world as ww
from tests.support import ledger_world as w
from tests.support.pg_cluster import Cluster, clusters

ME = "{ me { wallet { spendable } } }"
DONATE = """mutation($input: DonateInput!) { donate(input: $input) {
  wallet { spendable } userErrors { code } } }"""


class StubClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def caught_up(primary: Cluster, standby: Cluster) -> None:
    position = primary.scalar("SELECT pg_current_wal_lsn()::text")
    standby.wait_until(f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn", True)


def measured_fresh(reads: ReadDatabase, clock: StubClock, primary: Cluster,
                   standby: Cluster) -> float:
    """Once the standby has replayed all the primary has, a measurement finds it fresh (tried
    again a second later should the primary write WAL of its own in between, a checkpoint);
    returns the stub time of that measurement."""
    for _ in range(20):
        caught_up(primary, standby)
        clock.now += 1.0
        if reads.decision().replica:
            return clock.now
    raise AssertionError(f"the standby never measured fresh: {reads.decision()}")


@pytest.mark.slow
def test_wallet_reads_follow_the_standby_within_the_bound_and_the_primary_beyond() -> None:
    with clusters() as made:
        primary = made.primary("primary")
        primary.scalar("CREATE DATABASE pointsnet")
        upgrade(primary.url("pointsnet"))
        standby = made.standby(primary, "standby")
        db = Database(primary.url("pointsnet"))
        cafe, mahak, member = w.partner(db, "cafe"), w.charity(db, "mahak"), w.member(db)
        ww.earn(db, cafe, member, 100, at=utcnow())
        token, _ = db.write(lambda c: sessions.create(
            c, Keys(w.SECRET), member_id=member, kind="bearer", now=utcnow(), user_agent="test",
            ip="127.0.0.1"))
        cookie, _ = db.write(lambda c: sessions.create(
            c, Keys(w.SECRET), member_id=member, kind="cookie", now=utcnow(), user_agent="test",
            ip="127.0.0.1"))
        clock = StubClock()
        reads = ReadDatabase(db, standby.url("pointsnet"), max_lag=5, clock=clock)
        settings = Settings(database_url=db.url, env="test", secret_key=w.SECRET)
        client = TestClient(create_app(settings, db, reads=reads))

        def call(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = client.post("/graphql", json={"query": query, "variables": variables},
                                   headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text
            return response.json()["data"]

        def spendable() -> int:
            return call(ME)["me"]["wallet"]["spendable"]

        def page_spendable(path: str) -> str:
            response = client.get(path, headers={"Cookie": f"__Host-pn_session={cookie}"})
            assert response.status_code == 200, response.text
            found = re.search(r'data-testid="balance-spendable"><bdi>([^<]*)<', response.text)
            assert found, response.text[:2000]
            return found.group(1)

        try:
            t0 = measured_fresh(reads, clock, primary, standby)
            assert spendable() == 100
            with standby.connect("pointsnet") as conn:  # the read was the standby's
                readers = conn.execute("SELECT count(*) FROM pg_stat_activity "
                                       "WHERE application_name = %s", [APPLICATION_NAME]
                                       ).fetchone()
            assert readers is not None and readers[0] >= 1

            standby.scalar("SELECT pg_wal_replay_pause()")
            ww.earn(db, cafe, member, 50, at=utcnow())  # on the primary only, for now
            clock.now = t0 + 2  # the standby is 2 s behind: within the 5 s bound
            assert spendable() == 100  # the standby's (stale) answer: reads are routed there
            decision = reads.decision()
            assert decision.replica and decision.lag == 2.0
            scraped = client.get("/metrics").text
            assert "pointsnet_read_replica_in_use 1.0" in scraped
            assert "pointsnet_read_replica_lag_seconds 2.0" in scraped

            # A write decision reads the primary: all 150 points can be donated, and the
            # mutation's own answer is read there too.
            donated = call(DONATE, {"input": {
                "charityId": relay.Node.to_global_id("Charity", mahak), "points": 150,
                "idempotencyKey": "donate-all"}})["donate"]
            assert donated == {"wallet": {"spendable": 0}, "userErrors": []}
            assert spendable() == 100  # still the paused standby's
            assert page_spendable("/wallet") == "100"  # the wallet page reads it too
            assert page_spendable("/wallet?done=contact") == "0"  # after one's own action

            clock.now = t0 + 8  # past the bound: the primary answers
            assert spendable() == 0
            assert not reads.decision().replica
            scraped = client.get("/metrics").text
            assert "pointsnet_read_replica_in_use 0.0" in scraped
            assert "pointsnet_read_replica_lag_seconds +Inf" in scraped

            standby.scalar("SELECT pg_wal_replay_resume()")
            t1 = measured_fresh(reads, clock, primary, standby)  # caught up again
            assert spendable() == 0

            clock.now = t1 + 1.5
            assert reads.decision().replica
            standby.stop()  # dies after the decision: the read falls back to the primary
            assert spendable() == 0
            assert not reads.decision().replica
            clock.now = t1 + 3
            assert spendable() == 0  # and stays there while the standby is down
            assert "unreachable" in reads.decision().why
        finally:
            client.close()
            reads.dispose()
            db.dispose()


def test_a_read_database_cannot_write() -> None:
    """The rule by construction: nothing a write path needs is there."""
    reads = ReadDatabase(Database("sqlite://"))
    for name in ("write", "engine", "pg_statement", "url"):
        assert not hasattr(reads, name), name


def test_the_app_reads_where_the_settings_say() -> None:
    primary = Database("sqlite://")
    try:
        settings = Settings(database_url="sqlite://", env="test", secret_key=w.SECRET,
                            read_database_url="postgresql+psycopg://hub@replica-1/pointsnet",
                            read_max_lag_seconds=3)
        reads = create_app(settings, primary).state.reads
        assert reads.has_replica and reads.max_lag == 3
        assert not create_app(Settings(database_url="sqlite://", env="test"), primary
                              ).state.reads.has_replica
    finally:
        primary.dispose()


def test_staleness_is_the_age_of_the_newest_primary_position_replayed() -> None:
    samples = deque([(10.0, 100), (11.0, 250), (12.0, 400)])
    assert staleness(samples, 400, 12.5) == 0.5  # has all of the latest sample
    assert staleness(samples, 399, 12.5) == 1.5  # has the one before, not the latest
    assert staleness(samples, 100, 12.5) == 2.5
    assert staleness(samples, 99, 12.5) == float("inf")  # none of those kept
