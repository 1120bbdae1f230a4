"""Throwaway PostgreSQL databases for the benchmarks, and pgbench TPC-B as their yardstick.

Every benchmark uses the server at POINTSNET_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres, trust auth) and drops what it made.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import psycopg

ADMIN_URL = os.environ.get("POINTSNET_BENCH_PG_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg and the PostgreSQL tools spell it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def create_database(name: str) -> str:
    """A new empty database (an old one of that name is dropped first); its SQLAlchemy URL."""
    with psycopg.connect(libpq(ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(libpq(ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgBench:
    """pgbench TPC-B (scale 10) on a database of its own, initialised once and run as often as
    asked, so a benchmark can measure its yardstick next to each of its own runs."""

    def __init__(self, *, clients: int, prepared: bool) -> None:
        self.clients = clients
        self.mode = ["-M", "prepared"] if prepared else []  # else pgbench's simple protocol
        self.name = f"pointsnet_bench_pgbench_{uuid.uuid4().hex[:6]}"

    def __enter__(self) -> PgBench:
        self.url = libpq(create_database(self.name))
        subprocess.run(["pgbench", "-q", "-i", "-s", "10", self.url], check=True,
                       capture_output=True)
        return self

    def tps(self, seconds: int) -> float:
        out = subprocess.run(["pgbench", "-c", str(self.clients),
                              "-j", str(min(self.clients, 2)), "-T", str(seconds), *self.mode,
                              self.url], check=True, capture_output=True, text=True).stdout
        match = re.search(r"tps = ([\d.]+) \((?:without|excluding)", out)
        if match is None:
            raise RuntimeError(f"cannot read pgbench output:\n{out}")
        return float(match.group(1))

    def __exit__(self, *exc: object) -> None:
        drop_database(self.name)
