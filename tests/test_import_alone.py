"""Every module imports on its own, as the first project module a process loads.

An import circle hides as long as something else happens to be imported first (the app, a test's
conftest); a command or a job that starts from another module then dies at import. One child
process imports each module in turn, forgetting the project's modules in between (third-party
ones stay loaded, so it is quick)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("network", "partners", "settlement", "infra")
# The modules are split over this many children, run a core's worth at a time: every import
# starts from scratch, so one child for all of them took 160 s on a slow, busy machine, near its
# timeout, and the children share the machine's cores.
CHUNKS = 8

CHILD = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in {packages!r}]:
        del sys.modules[loaded]
    # The metrics module registers its collectors in prometheus-client's process-wide registry,
    # which outlives the forgotten modules: empty it, as a fresh process would have it.
    from prometheus_client import REGISTRY
    for collector in list(REGISTRY._collector_to_names):
        REGISTRY.unregister(collector)
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=1).strip().splitlines()[-1])
print("\\n".join(failed))
"""


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or "sdk" in parts or parts[-1] == "__main__":
                continue  # migrations run under alembic; the SDK's files are its build's input
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _import_each(modules: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD.format(packages=set(PACKAGES)), *modules],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_every_module_imports_first() -> None:
    modules = _modules()
    assert len(modules) > 100  # the walk found the tree
    chunks = [modules[i::CHUNKS] for i in range(CHUNKS)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = list(pool.map(_import_each, chunks))
    assert [d.returncode for d in done] == [0] * CHUNKS, [d.stderr for d in done]
    assert [d.stdout.strip() for d in done] == [""] * CHUNKS
