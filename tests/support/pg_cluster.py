"""Throwaway PostgreSQL clusters for the data-safety tests (backups, a streaming standby,
failover), made with Debian's own binaries on free ports under a temporary directory.

The binaries come from infra/scripts/ensure-pg-binaries.sh, which installs the package when they
are missing and fails loudly when it cannot: these tests never skip. initdb refuses to run as
root, so as root every server-side command runs as the `postgres` user (`runuser`), and the
clusters' directory belongs to it. Everything is stopped and removed when the `Clusters` context
ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.support.hub_process import ROOT, _free_port

SCRIPTS = ROOT / "infra" / "scripts"
SERVER_USER = "postgres"


def pg_bin() -> Path:
    done = subprocess.run([str(SCRIPTS / "ensure-pg-binaries.sh")], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise AssertionError(f"PostgreSQL binaries are required: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise AssertionError(f"running as root, initdb needs the {SERVER_USER!r} user "
                             "(Debian's postgresql package makes it)") from None
    return ["runuser", "-u", SERVER_USER, "--"]


def run(argv: Sequence[str | Path], *, timeout: float = 60, env: dict[str, str] | None = None
        ) -> str:
    """A command as the clusters' user; its output, or an AssertionError that shows it."""
    done = subprocess.run([*_as_server_user(), *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Cluster:
    name: str
    bin: Path
    data: Path
    port: int
    log: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo(database), autocommit=True, connect_timeout=5)

    def scalar(self, sql: str, database: str = "postgres", params: Any = None) -> Any:
        with self.connect(database) as conn:
            cursor = conn.execute(sql, params)
            row = cursor.fetchone() if cursor.description else None
            return None if row is None else row[0]

    def start(self) -> None:
        run([self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        run([self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def promote(self) -> None:
        run([self.bin / "pg_ctl", "-D", self.data, "-w", "-t", "60", "promote"])

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_until(self, sql: str, expected: Any, *, seconds: float = 60,
                   database: str = "postgres") -> None:
        """Poll until `sql` gives `expected` (recovery ending, a segment archived)."""
        last: Any = None
        for _ in range(int(seconds * 10)):
            with contextlib.suppress(psycopg.OperationalError):
                last = self.scalar(sql, database)
                if last == expected:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {sql!r} gave {last!r}, not {expected!r}, after "
                             f"{seconds} s; server log:\n{self.server_log()[-3000:]}")


@dataclass
class Clusters:
    """The clusters of one test, under one directory the server user owns."""

    root: Path
    bin: Path
    made: list[Cluster] = field(default_factory=list)

    def path(self, name: str) -> Path:
        """A directory for backups or an archive, writable by the server user."""
        path = self.root / name
        run(["mkdir", "-p", path])
        return path

    def primary(self, name: str, **settings: str) -> Cluster:
        """initdb, a few settings (small, local, quick to stop) and start."""
        cluster = self._new(name)
        run([self.bin / "initdb", "-D", cluster.data, "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-instructions"])
        conf = {"port": str(cluster.port), "listen_addresses": "'127.0.0.1'",
                "unix_socket_directories": f"'{self.root}'", "shared_buffers": "'32MB'",
                "max_connections": "80", "fsync": "off", "wal_keep_size": "'256MB'",
                **settings}
        self._append_conf(cluster, conf)
        cluster.start()
        return cluster

    def standby(self, primary: Cluster, name: str) -> Cluster:
        """A streaming standby of `primary` (pg_basebackup -R), started; its application_name
        is `name`, which the primary's synchronous_standby_names can list."""
        cluster = self._new(name)
        run([self.bin / "pg_basebackup", "-D", cluster.data, "-R", "-X", "stream",
             "--checkpoint=fast", "-d",
             f"host=127.0.0.1 port={primary.port} user=postgres application_name={name}"])
        self._append_conf(cluster, {"port": str(cluster.port)})
        cluster.start()
        return cluster

    def restored(self, name: str, data: Path) -> Cluster:
        """A cluster on a data directory a restore script made; started on a port of its own."""
        cluster = Cluster(name, self.bin, data, _free_port(), self.root / f"{name}.log")
        self._append_conf(cluster, {"port": str(cluster.port)})
        self.made.append(cluster)
        cluster.start()
        return cluster

    def _new(self, name: str) -> Cluster:
        cluster = Cluster(name, self.bin, self.root / name, _free_port(),
                          self.root / f"{name}.log")
        self.made.append(cluster)
        return cluster

    def _append_conf(self, cluster: Cluster, conf: dict[str, str]) -> None:
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        _append_as_server_user(cluster.data / "postgresql.auto.conf", lines)


def _append_as_server_user(path: Path, text: str) -> None:
    done = subprocess.run([*_as_server_user(), "tee", "-a", str(path)], input=text,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"cannot write {path}: {done.stderr}")


@contextlib.contextmanager
def clusters() -> Iterator[Clusters]:
    bin_dir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="pointsnet-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, SERVER_USER, SERVER_USER)
    made = Clusters(root, bin_dir)
    try:
        yield made
    finally:
        for cluster in made.made:
            if cluster.running():
                with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                    cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
