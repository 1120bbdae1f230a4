"""What a benchmark's PostgreSQL backends wait on, phase by phase: run it under this script.

    .venv/bin/python infra/bench/wait_events.py [--interval 0.01] -- \\
        .venv/bin/python infra/bench/programme_api.py --rounds 1

Runs the command and passes its figure lines through (the hub's JSON log lines are dropped).
Meanwhile it samples pg_stat_activity every `--interval` seconds, keeping only backends of
databases created after it started (the benchmark's own; pgbench's yardstick left out), so
other runs on a shared server do not count. After each figure line it prints, for the samples
since the line before (a benchmark prints a line when a phase ends, so each block describes the
phase that line measured):

- each wait event's share of the samples and the mean number of backends in it ("CPU" is an
  active backend waiting on nothing; Client:ClientRead one waiting on the hub, in a
  transaction or not);
- for backends queued on a row (Lock:tuple / Lock:transactionid), the table of the row, read
  from the tuple lock the waiter holds or awaits (a waiter the lock left before it was read is
  counted as "?");
- MultiXact SLRU page accesses and new pages (pg_stat_slru, the whole server's: several
  transactions locking one row at once make a MultiXact; this names the order of magnitude).

Figures only, no assertions (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.bench.databases import ADMIN_URL, libpq  # noqa: E402

_WAITS = """
    SELECT datname, pid, COALESCE(wait_event_type || ':' || wait_event, 'CPU')
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
"""
_ROW = "SELECT relation::regclass::text FROM pg_locks WHERE pid = %s AND locktype = 'tuple'"
_SLRU = "SELECT name, blks_hit, blks_zeroed FROM pg_stat_slru WHERE name LIKE 'MultiXact%%'"


class Sampler:
    """Wait events of the backends of databases made after it started, counted until taken."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.admin = psycopg.connect(libpq(ADMIN_URL), autocommit=True)
        self.known = {r[0] for r in self.admin.execute("SELECT datname FROM pg_database")}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._reset()
        self.slru = self._slru()

    def _reset(self) -> None:
        self.waits: collections.Counter[str] = collections.Counter()
        self.rows: collections.Counter[str] = collections.Counter()
        self.samples = 0

    def _slru(self) -> dict[str, tuple[int, int]]:
        return {name: (hit, zeroed) for name, hit, zeroed in self.admin.execute(_SLRU)}

    def _ours(self, datname: str | None) -> bool:
        return bool(datname) and datname not in self.known and "pgbench" not in datname

    def run(self) -> None:
        readers: dict[str, psycopg.Connection] = {}
        try:
            while not self.stop.is_set():
                found = [r for r in self.admin.execute(_WAITS) if self._ours(r[0])]
                rows = []
                for datname, pid, wait in found:
                    if wait in ("Lock:tuple", "Lock:transactionid"):
                        try:  # pg_locks shows a database's relations by name only inside it
                            if datname not in readers:
                                readers[datname] = psycopg.connect(
                                    libpq(ADMIN_URL).rsplit("/", 1)[0] + "/" + datname,
                                    autocommit=True)
                            held = readers[datname].execute(_ROW, (pid,)).fetchall()
                        except psycopg.Error:  # the benchmark dropped its database
                            held = []
                        rows.append(held[0][0] if held else "?")
                with self.lock:
                    self.samples += 1
                    self.waits.update(wait for _, _, wait in found)
                    self.rows.update(rows)
                time.sleep(self.interval)
        finally:
            for conn in readers.values():
                conn.close()

    def report(self) -> list[str]:
        with self.lock:
            waits, rows, samples = self.waits, self.rows, self.samples
            self._reset()
        slru, before = self._slru(), self.slru
        self.slru = slru
        if samples < 3:  # a line printed right after another: no phase of its own
            return []
        total = sum(waits.values()) or 1
        out = [f"  waits over {samples} samples (mean backends {total / samples:.2f}): "
               + ", ".join(f"{w} {100 * n / total:.0f}% ({n / samples:.2f})"
                           for w, n in waits.most_common(8)) + ("none" if not waits else "")]
        if rows:
            out.append("  rows queued on, by table: "
                       + ", ".join(f"{t} {n}" for t, n in rows.most_common()))
        out.append("  MultiXact SLRU (whole server) page hits / new pages: " + ", ".join(
            f"{name} {slru[name][0] - before[name][0]:,} / {slru[name][1] - before[name][1]}"
            for name in sorted(slru)))
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    sampler = Sampler(args.interval)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("{"):  # the hub's JSON log
            continue
        print(line, end="", flush=True)
        for figure in sampler.report():
            print(figure, flush=True)
    sampler.stop.set()
    thread.join()
    sys.exit(process.wait())


if __name__ == "__main__":
    main()
