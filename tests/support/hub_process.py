"""The hub as a real uvicorn process on 127.0.0.1, for tests that need real HTTP between
processes (several workers sharing one PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def hub_process(database_url: str, secret_key: str, *, workers: int = 2) -> Iterator[str]:
    """Yield the base URL once /healthz answers; the server's output is shown if it never does."""
    port = _free_port()
    env = {**os.environ, "POINTSNET_DATABASE_URL": database_url, "POINTSNET_ENV": "test",
           "POINTSNET_SECRET_KEY": secret_key}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "infra.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(400):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise AssertionError(f"uvicorn did not start:\n{output}")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)
