"""`pointsnet serve` as a real process (its own JSON logs, metrics directory and SIGTERM
handling), for the observability tests; its stderr (the logs) and stdout are kept in files."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from network.clock import utcnow
from network.db.engine import Database
from partners.keys import create_key
from partners.registry import create_partner
from partners.terms import Terms
from tests.support.hub_process import ROOT, _free_port

POINTSNET = Path(sys.executable).parent / "pointsnet"


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    stderr: Path
    stdout: Path
    temp: Path  # the process's TMPDIR, where serve makes its metrics directory

    def logs(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code (uvicorn's graceful shutdown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def serve_process(database_url: str, secret_key: str, folder: Path, *, workers: int = 2,
                  env: dict[str, str] | None = None) -> Iterator[Served]:
    """Yield once /healthz answers; fail loudly, with the output, if it never does."""
    port = _free_port()
    environ = {**os.environ, "POINTSNET_DATABASE_URL": database_url, "POINTSNET_ENV": "test",
               "POINTSNET_SECRET_KEY": secret_key, "POINTSNET_NOTIFY_EMAIL_SENDER": "console",
               "POINTSNET_NOTIFY_SMS_SENDER": "console", **(env or {})}
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # serve makes its own, here:
    (folder / "tmp").mkdir(exist_ok=True)
    environ["TMPDIR"] = str(folder / "tmp")
    stderr, stdout = folder / "hub.stderr", folder / "hub.stdout"
    with stderr.open("wb") as err, stdout.open("wb") as out:
        process = subprocess.Popen(
            [str(POINTSNET), "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT, env=environ, stdout=out, stderr=err,
            start_new_session=True)  # its own process group: cleanup reaches the workers too
    served = Served(f"http://127.0.0.1:{port}", process, stderr, stdout, folder / "tmp")
    try:
        for _ in range(600):
            if process.poll() is not None:
                break
            try:
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.05)
        else:
            raise AssertionError(f"pointsnet serve did not start:\n{served.logs()}")
        if process.poll() is not None:
            raise AssertionError(f"pointsnet serve exited {process.returncode}:\n{served.logs()}")
        yield served
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and every process it started. SIGKILL of uvicorn's supervisor alone
    leaves its workers running (they were seen serving after the test ended), so the master gets
    SIGTERM first (a graceful stop takes its workers with it) and the group is killed after."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    if process.poll() is None:
        process.wait(10)


def partner_with_key(db: Database, earn_rate: str = "2") -> tuple[str, str]:
    """A partner `kiosk` and a key with the default scopes: (key id, private key PEM)."""
    now = utcnow()

    def setup(conn: Any) -> tuple[str, str]:
        partner = create_partner(conn, code="kiosk", name="Kiosk",
                                 terms=Terms(earn_points_per_unit=Decimal(earn_rate)), now=now)
        key, pem = create_key(conn, party_id=partner.id, now=now)
        return key.key_id, pem

    return db.write(setup)
