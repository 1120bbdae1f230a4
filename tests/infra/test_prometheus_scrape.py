"""Debian's real Prometheus scrapes a real `pointsnet serve --workers 2` with the bearer token,
after a little load, and its query API then answers with the hub's counts. The server is
installed by infra/scripts/ensure-prometheus.sh; the test fails, never skips, without it."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from network.db.engine import Database
from tests.support.hub_process import ROOT, _free_port
from tests.support.serve_process import serve_process

TOKEN = "scrape-token-for-the-test"


@contextlib.contextmanager
def prometheus(target: str, folder: Path) -> Iterator[str]:
    installed = subprocess.run([str(ROOT / "infra" / "scripts" / "ensure-prometheus.sh")],
                               capture_output=True, text=True)
    assert installed.returncode == 0, f"prometheus cannot be installed: {installed.stderr}"
    port = _free_port()
    (folder / "prometheus.yml").write_text(f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pointsnet
    authorization:
      credentials: {TOKEN}
    static_configs:
      - targets: ["{target}"]
""")
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, (folder / "prometheus.log").read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/-/ready", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError(f"prometheus did not start: {(folder / 'prometheus.log')}")
        yield base
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def query(base: str, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def test_prometheus_scrapes_the_hub(pg_db: Database, tmp_path: Path) -> None:
    with serve_process(pg_db.url, "prom-secret", tmp_path,
                       env={"POINTSNET_METRICS_TOKEN": TOKEN}) as hub:
        for _ in range(7):
            answer = httpx.post(f"{hub.base}/graphql", json={"query": "{ __typename }"})
            assert answer.status_code == 200
        assert httpx.get(f"{hub.base}/metrics").status_code == 401  # not public
        with prometheus(hub.base.removeprefix("http://"), tmp_path) as base:
            # Wait for a scrape to land (the interval is 1 s), at most a minute.
            for _ in range(600):
                found = query(base, 'pointsnet_requests_total{operation="__typename"}')
                if found:
                    break
                time.sleep(0.1)
            targets = httpx.get(f"{base}/api/v1/targets").json()["data"]["activeTargets"]
        assert hub.stop() == 0
    assert [t["health"] for t in targets] == ["up"], targets
    assert len(found) == 1, found
    assert found[0]["metric"]["outcome"] == "OK"
    assert float(found[0]["value"][1]) == 7  # summed over both workers
