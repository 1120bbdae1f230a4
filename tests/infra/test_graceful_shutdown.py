"""SIGTERM under load: `pointsnet serve --workers 2` stops accepting, finishes the requests it
is answering and exits 0; no request gets a 5xx on the way, and every award answered 200 is in
the database (no acknowledged write lost), the ledger whole."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from sqlalchemy import select

from network.db.engine import Database
from network.db.schema import journal_entries
from network.ledger.verify import verify
from partners.client import PartnerAPIError, PartnerClient
from tests.support.serve_process import partner_with_key, serve_process

ROOT = Path(__file__).resolve().parents[2]
AWARD = (ROOT / "graphql" / "operations" / "partner" / "AwardPoints.graphql").read_text()
ENROL = (ROOT / "graphql" / "operations" / "partner" / "EnrolMember.graphql").read_text()
THREADS = 8
ACKNOWLEDGED_BEFORE_SIGTERM = 60


def test_sigterm_under_load_loses_no_acknowledged_write(pg_db: Database, tmp_path: Path) -> None:
    key_id, pem = partner_with_key(pg_db, earn_rate="1")
    acknowledged: list[str] = []
    other_answers: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    with serve_process(pg_db.url, "shutdown-secret", tmp_path) as hub:
        with PartnerClient(hub.base, key_id, pem) as client:
            card = client.execute(ENROL, {"input": {"phone": "+31 20 555 0199"}}
                                  )["data"]["enrolMember"]["member"]["cardNumber"]

        def till(number: int) -> None:
            # One attempt per request: a refused connection ends this till, it is not retried.
            with PartnerClient(hub.base, key_id, pem, max_attempts=1) as till_client:
                for sale in range(10_000):
                    reference = f"till-{number}-sale-{sale}"
                    try:
                        answer = till_client.execute(AWARD, {"input": {
                            "cardNumber": card, "amount": 100, "currency": "EUR",
                            "reference": reference}})
                    except httpx.TransportError:
                        return  # the hub stopped accepting
                    except PartnerAPIError as exc:
                        with lock:
                            other_answers.append(f"{exc.status} {exc.code}")
                        return
                    with lock:
                        if answer["data"]["awardPoints"]["userErrors"]:
                            other_answers.append(str(answer["data"]["awardPoints"]))
                            return
                        acknowledged.append(reference)
                        if len(acknowledged) >= ACKNOWLEDGED_BEFORE_SIGTERM:
                            enough.set()

        tills = [threading.Thread(target=till, args=(n,)) for n in range(THREADS)]
        for thread in tills:
            thread.start()
        assert enough.wait(120), f"the load never got going: {other_answers}"
        exit_code = hub.stop(timeout=60)
        for thread in tills:
            thread.join(60)
        assert not any(thread.is_alive() for thread in tills)

    assert exit_code == 0, hub.logs()
    assert other_answers == []  # no 5xx, no refusal: requests in flight were finished
    booked = set(pg_db.read(lambda conn: conn.execute(
        select(journal_entries.c.reference).where(journal_entries.c.kind == "earn")).scalars()))
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_SIGTERM
    assert set(acknowledged) <= booked  # every 200 answer's entry is in the database
    assert verify(pg_db) == []
    assert "Shutting down" in hub.logs()


def test_sigterm_to_a_single_process_exits_0_and_removes_the_metrics_directory(
        pg_db: Database, tmp_path: Path) -> None:
    with serve_process(pg_db.url, "shutdown-secret", tmp_path, workers=1) as hub:
        assert httpx.get(f"{hub.base}/metrics").status_code == 200
        made = [path.name for path in hub.temp.iterdir()]
        assert len(made) == 1 and made[0].startswith("pointsnet-metrics-")
        assert hub.stop() == 0, hub.logs()
    assert list(hub.temp.iterdir()) == []
    assert "Traceback" not in hub.logs()
