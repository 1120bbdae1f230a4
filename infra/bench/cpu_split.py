"""Where a benchmark's CPU went: the hub's processes, PostgreSQL's, and the load generator's.

On two shared cores a throughput figure alone cannot say what limits it. Read around a timed run,
CPU per request (or per line) for each side tells: when PostgreSQL alone needs X µs of CPU per
line, no hub code can book more than cores / X lines per second on this machine. Linux only
(/proc); times include the kernel's work for each process (sockets, WAL writes).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _processes() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds) for every process we may read."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        out[int(entry.name)] = (name, parent, _process_cpu(stat))
    return out


def _machine_busy() -> float:
    """CPU seconds every core spent on anything but idling (or waiting for the disk)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def _tree(processes: dict[int, tuple[str, int, float]], root: int) -> set[int]:
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (_, ppid, _) in processes.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    return found


@dataclass(frozen=True)
class CpuReading:
    hub: float
    postgres: float
    client: float  # this process (the load generator), its threads included
    children: float  # this process's children that have ended and been waited for (pgbench)
    busy: float  # the whole machine's, every process's
    wall: float

    def __sub__(self, other: CpuReading) -> CpuReading:
        return CpuReading(self.hub - other.hub, self.postgres - other.postgres,
                          self.client - other.client, self.children - other.children,
                          self.busy - other.busy, self.wall - other.wall)

    @property
    def others(self) -> float:
        """What the machine spent beyond the hub, this process and its ended children: mostly
        PostgreSQL, including backends that ended within the run (pgbench's connections)."""
        return self.busy - self.hub - self.client - self.children


def read(hub_pid: int | None = None) -> CpuReading:
    """`hub_pid` is the uvicorn process (its workers are its children), if there is a hub.
    PostgreSQL's processes (backends, WAL writer, checkpointer...) are the ones named postgres;
    a backend that ends within the run takes its CPU out of /proc with it (see
    `CpuReading.others`)."""
    processes = _processes()
    hub = sum(processes[pid][2] for pid in _tree(processes, hub_pid)) if hub_pid else 0.0
    postgres = sum(cpu for name, _, cpu in processes.values() if name.startswith("postgres"))
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuReading(hub, postgres, own.ru_utime + own.ru_stime,
                      children.ru_utime + children.ru_stime, _machine_busy(),
                      time.perf_counter())


def backends(pids: list[int]) -> float:
    """CPU seconds of the given PostgreSQL backends (a run's own connections' `backend_pid`):
    on a server others use too, what `read`'s PostgreSQL figure cannot separate."""
    return sum(_process_cpu(Path(f"/proc/{pid}/stat").read_text()) for pid in pids)


def summary(spent: CpuReading, units: int, unit: str) -> str:
    """µs of CPU per unit for each side, and the rates they allow on this machine's cores."""
    cores = os.cpu_count() or 1
    hub, postgres, client = (1e6 * x / units for x in (spent.hub, spent.postgres, spent.client))
    if not postgres:
        return f"CPU per {unit}: no PostgreSQL time was recorded"
    return (f"CPU per {unit}: hub {hub:,.0f} µs, PostgreSQL {postgres:,.0f} µs, load generator "
            f"{client:,.0f} µs; {cores} cores allow at most "
            f"{cores * 1e6 / (hub + postgres + client):,.0f} {unit}s/s for all three, and "
            f"{cores * 1e6 / postgres:,.0f} {unit}s/s with the whole machine given to PostgreSQL "
            f"(the machine was busy {spent.busy / spent.wall:.2f} of {cores} cores)")
