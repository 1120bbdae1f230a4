"""Failover under partner-API load: the hub's URL names both servers
(`?host=primary&host=standby&target_session_attrs=read-write`); the primary is stopped
(`pg_ctl stop -m immediate`, a crash), the synchronous standby promoted, and the hub carries on
without a restart. Every award acknowledged before, during or after is on the new primary exactly
once, `pointsnet ledger verify` is clean there, and sending an acknowledged award again is
answered from its idempotency key, not booked twice.

What the setup guarantees, and so all the test claims: the primary lists the standby in
synchronous_standby_names with synchronous_commit on, so a commit is acknowledged only once the
standby has the WAL on disk; promotion replays all of it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from infra.migrate import upgrade
from network.config import database_url
from network.db.engine import Database, libpq_conninfo
from partners.client import PartnerClient
from tests.infra.test_backups import earn_references, ledger_verify
from tests.support.award_load import AwardLoad, award, network_with_member
from tests.support.pg_cluster import clusters
from tests.support.serve_process import serve_process


@pytest.mark.slow
def test_the_hub_carries_on_when_the_standby_is_promoted(tmp_path: Path) -> None:
    with clusters() as made:
        primary = made.primary("primary")
        primary.scalar("CREATE DATABASE pointsnet")
        upgrade(primary.url("pointsnet"))
        standby = made.standby(primary, "standby")
        primary.scalar("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
        primary.scalar("SELECT pg_reload_conf()")
        primary.wait_until("SELECT sync_state FROM pg_stat_replication "
                           "WHERE application_name = 'standby'", "sync")

        url = (f"postgresql+psycopg://postgres@/pointsnet?host=127.0.0.1:{primary.port}"
               f"&host=127.0.0.1:{standby.port}&target_session_attrs=read-write")
        db = Database(url)
        with serve_process(url, "failover-secret", tmp_path, workers=2) as hub:
            key_id, pem, card = network_with_member(db, hub.base)
            with AwardLoad(hub.base, key_id, pem, card) as load:
                load.wait_for(30)
                primary.stop("immediate")
                crashed = time.monotonic()
                time.sleep(1)  # the hub meets the outage: refused, then a read-only server
                standby.promote()
                promoted = time.monotonic()
                load.wait_for(30)  # on the new primary, through the same hub processes
            acks = list(load.acks)
            met_outage = '"outcome": "DATABASE_UNAVAILABLE"' in hub.logs()
            booked_once = earn_references(standby)

            # Sending acknowledged awards again (as a till does that never saw the answer):
            # the first answers, nothing new booked.
            with PartnerClient(hub.base, key_id, pem) as client:
                for ack in acks[:5] + acks[-5:]:
                    assert award(client, card, ack.reference)["transaction"]["id"] == ack.entry_id
            assert sorted(earn_references(standby)) == sorted(booked_once)
        db.dispose()

        assert met_outage  # the hub answered 503 while no server took writes
        assert standby.scalar("SELECT pg_is_in_recovery()") is False
        references = [ack.reference for ack in acks]
        assert len(booked_once) == len(set(booked_once))  # no retry booked twice
        assert set(references) <= set(booked_once), sorted(set(references) - set(booked_once))
        # Requests in flight when the primary died were answered after the promotion (nothing
        # can commit in the second before it), by the SDK's retries of the hub's 503.
        assert any(ack.sent < crashed and ack.answered > crashed + 1 for ack in acks)
        assert any(ack.sent > promoted for ack in acks)
        ledger_verify(standby.url("pointsnet"))


def test_a_multi_host_url_reaches_the_hot_path_connections_as_libpq_reads_it() -> None:
    """The partner hot path's own psycopg connections (StatementConnections) must try both
    servers too: SQLAlchemy's `host=a:p&host=b:q` is libpq's `host=a,b port=p,q`."""
    url = database_url("postgresql://app:pw@/pointsnet?host=db-1:5432&host=db-2:6432"
                       "&target_session_attrs=read-write")
    database = Database(url)
    try:
        assert conninfo_to_dict(libpq_conninfo(database.engine)) == {
            "dbname": "pointsnet", "user": "app", "password": "pw", "host": "db-1,db-2",
            "port": "5432,6432", "target_session_attrs": "read-write"}
    finally:
        database.dispose()
