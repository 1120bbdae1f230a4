"""Debian's PgBouncer as a real process in front of the test PostgreSQL: its own config in a
temporary directory, transaction pooling, a free port, trust authentication (the test server
trusts 127.0.0.1 too). `infra/scripts/ensure-pgbouncer.sh` (make test) installs it; without it
the tests fail, naming the script."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.support.hub_process import _free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
PATIENCE = 60  # seconds for pgbouncer to listen: a hang, not a timing


@dataclass
class Bouncer:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    def url(self, postgres_url: str, database: str | None = None) -> str:
        """`postgres_url` (a test database's) with PgBouncer's port; `database` names one of
        the [databases] aliases instead of the real name."""
        parsed = make_url(postgres_url).set(host="127.0.0.1", port=self.port)
        if database is not None:
            parsed = parsed.set(database=database)
        return parsed.render_as_string(hide_password=False)

    def admin(self, command: str) -> list[tuple]:
        """A SHOW command on PgBouncer's admin console (the `pgbouncer` database)."""
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="pgbouncer", autocommit=True) as conn:
            # The console speaks only the simple query protocol.
            return list(conn.cursor().execute(command.encode(), prepare=False))

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def pgbouncer(postgres_url: str, *, pool_size: int = 3,
              tight_alias: str | None = None) -> Iterator[Bouncer]:
    """PgBouncer on a free port in transaction pooling mode, forwarding every database name to
    the PostgreSQL of `postgres_url` with at most `pool_size` server connections per database:
    fewer than the hub's clients, so transactions of one client land on different server
    connections, as in production. `tight_alias`, if given, is one more database name for
    the database of `postgres_url` with ONE server connection, shared by every client."""
    assert Path(PGBOUNCER).exists(), (
        "PgBouncer is missing: run infra/scripts/ensure-pgbouncer.sh (make test does)")
    server = make_url(postgres_url)
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="pointsnet-pgbouncer-"))
    databases = f"* = host={server.host} port={server.port or 5432}\n"
    if tight_alias:
        databases += (f"{tight_alias} = host={server.host} port={server.port or 5432} "
                      f"dbname={server.database} pool_size=1\n")
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
{databases}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    argv = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: -u switches user at start
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        for name in ("users.txt", "pgbouncer.ini"):
            os.chown(folder / name, user.pw_uid, user.pw_gid)
        argv[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    bouncer = Bouncer(port, folder, process)
    try:
        deadline = time.monotonic() + PATIENCE
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise AssertionError(f"pgbouncer exited {process.returncode}:\n{output}\n"
                                     f"{bouncer.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, f"pgbouncer did not listen:\n{bouncer.log()}"
            time.sleep(0.05)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def pgbouncer_version() -> tuple[int, ...]:
    out = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=True)
    first = out.stdout.split()[1]  # "PgBouncer 1.18.0"
    return tuple(int(part) for part in first.split("."))
