"""Backups taken under partner-API load restore into a fresh cluster on another port, where
`pointsnet ledger verify` is clean and every award the hub acknowledged before the restore point
is present (and none sent after it).

Both paths the README documents: a base backup plus the WAL archive replayed to a named restore
point (infra/scripts/backup-base.sh, archive-wal.sh, restore-pitr.sh), and a logical
pg_dump -Fc / pg_restore. The clusters are throwaway ones made with Debian's binaries
(tests/support/pg_cluster.py); the hub is `pointsnet serve` against the first.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.migrate import upgrade
from network.db.engine import Database
from tests.support.award_load import AwardLoad, network_with_member
from tests.support.pg_cluster import SCRIPTS, Cluster, clusters, run
from tests.support.serve_process import serve_process

POINTSNET = Path(sys.executable).parent / "pointsnet"
pytestmark = pytest.mark.slow


def ledger_verify(url: str) -> None:
    """`pointsnet ledger verify` against `url`, as an operator runs it after a restore."""
    done = subprocess.run([str(POINTSNET), "ledger", "verify"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "POINTSNET_DATABASE_URL": url,
                               "POINTSNET_ENV": "test"}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def earn_references(cluster: Cluster) -> list[str]:
    with cluster.connect("pointsnet") as conn:
        return [row[0] for row in conn.execute(
            "SELECT reference FROM journal_entries WHERE kind = 'earn'")]


def hub_database(primary: Cluster) -> Database:
    primary.scalar("CREATE DATABASE pointsnet")
    url = primary.url("pointsnet")
    upgrade(url)
    return Database(url)


def test_base_backup_and_wal_archive_restore_to_a_restore_point(tmp_path: Path) -> None:
    with clusters() as made:
        archive, backups = made.path("wal-archive"), made.path("backups")
        primary = made.primary(
            "primary", archive_mode="on",
            archive_command=f"'{SCRIPTS}/archive-wal.sh %p %f {archive}'")
        db = hub_database(primary)
        with serve_process(db.url, "backup-secret", tmp_path, workers=1) as hub:
            key_id, pem, card = network_with_member(db, hub.base)
            with AwardLoad(hub.base, key_id, pem, card) as load:
                load.wait_for(20)
                base = run([SCRIPTS / "backup-base.sh", backups, "-h", "127.0.0.1",
                            "-p", str(primary.port), "-U", "postgres"],
                           env={"PG_BIN": str(made.bin)}).strip().splitlines()[-1]
                load.wait_for(20)  # written after the backup: only the archive has these
                mark = time.monotonic()
                primary.scalar("SELECT pg_create_restore_point('before-audit')")
                after_mark = time.monotonic()
                load.wait_for(20)
            acknowledged, too_late = load.acknowledged_before(mark), load.sent_after(after_mark)
        db.dispose()
        segment = primary.scalar("SELECT pg_walfile_name(pg_switch_wal())")
        for _ in range(300):  # the archiver copies the segment holding the restore point
            if (archive / segment).exists():
                break
            time.sleep(0.1)
        assert (archive / segment).exists(), primary.server_log()[-2000:]
        primary.stop()  # the restore must not lean on the original in any way

        data = Path(run([SCRIPTS / "restore-pitr.sh", base, archive, made.root / "restored",
                         "--name", "before-audit"]).strip().splitlines()[-1])
        restored = made.restored("restored", data)
        restored.wait_until("SELECT pg_is_in_recovery()", False)  # reached the point, promoted

        ledger_verify(restored.url("pointsnet"))
        booked = earn_references(restored)
        assert len(booked) == len(set(booked))
        assert acknowledged and too_late
        assert acknowledged <= set(booked), sorted(acknowledged - set(booked))[:5]
        assert not set(booked) & too_late  # the restore stopped at the point, not at the end
        assert "recovery stopping at restore point \"before-audit\"" in restored.server_log()

        # A target the archive never reaches: the server refuses to open rather than open short.
        data = Path(run([SCRIPTS / "restore-pitr.sh", base, archive, made.root / "no-such-point",
                         "--name", "never-made"]).strip().splitlines()[-1])
        log = made.root / "no-such-point.log"
        with contextlib.suppress(AssertionError):  # pg_ctl may see it up while it replays
            made.restored("no-such-point", data)
        for _ in range(600):
            if "before configured recovery target was reached" in log.read_text() and \
                    not (data / "postmaster.pid").exists():
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not refuse:\n{log.read_text()[-2000:]}")


def test_pg_dump_under_load_restores_with_pg_restore(tmp_path: Path) -> None:
    with clusters() as made:
        primary = made.primary("primary")
        dumps = made.path("dumps")
        db = hub_database(primary)
        with serve_process(db.url, "backup-secret", tmp_path, workers=1) as hub:
            key_id, pem, card = network_with_member(db, hub.base)
            with AwardLoad(hub.base, key_id, pem, card) as load:
                load.wait_for(20)
                mark = time.monotonic()
                run([made.bin / "pg_dump", "-Fc", "-f", dumps / "pointsnet.dump",
                     "-d", primary.conninfo("pointsnet")])
                after_dump = time.monotonic()
                load.wait_for(20)
            acknowledged, too_late = load.acknowledged_before(mark), load.sent_after(after_dump)
        db.dispose()

        fresh = made.primary("fresh")
        run([made.bin / "pg_restore", "--create", "--exit-on-error", "-d",
             fresh.conninfo("postgres"), dumps / "pointsnet.dump"])

        ledger_verify(fresh.url("pointsnet"))
        booked = earn_references(fresh)
        assert len(booked) == len(set(booked))
        assert acknowledged and too_late
        assert acknowledged <= set(booked), sorted(acknowledged - set(booked))[:5]
        assert not set(booked) & too_late  # one snapshot, taken while the dump ran
        with fresh.connect("pointsnet") as conn:  # the schema came back at the code's head
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1
