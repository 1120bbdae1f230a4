"""Partner-API load for the data-safety tests: tills sending signed awards through the SDK to a
real hub, each keeping what the hub acknowledged and when each request was sent.

Every award's idempotency key is its reference (the till's receipt id), so a test can send an
acknowledged award again and expect the first answer, and can find each one in a restored or
failed-over database by its reference.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from network.db.engine import Database
from partners.client import PartnerAPIError, PartnerClient
from tests.support.serve_process import partner_with_key

ROOT = Path(__file__).resolve().parents[2]
AWARD = (ROOT / "graphql" / "operations" / "partner" / "AwardPoints.graphql").read_text()
ENROL = (ROOT / "graphql" / "operations" / "partner" / "EnrolMember.graphql").read_text()


@dataclass(frozen=True)
class Ack:
    reference: str
    sent: float  # time.monotonic() when the request was first sent
    answered: float  # ... and when its 200 came back
    entry_id: str  # the transaction id the hub answered


@dataclass
class AwardLoad:
    base: str
    key_id: str
    pem: str
    card: str
    tills: int = 4
    max_attempts: int = 8  # the SDK retries 503 (Retry-After 2 s) and refused connections
    acks: list[Ack] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    started: list[tuple[str, float]] = field(default_factory=list)  # (reference, sent)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> AwardLoad:
        self._threads = [threading.Thread(target=self._till, args=(n,), daemon=True)
                         for n in range(self.tills)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in self._threads), "a till hung"

    def wait_for(self, count: int, seconds: float = 60) -> None:
        """Until `count` more awards have been acknowledged."""
        with self._lock:
            goal = len(self.acks) + count
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.acks) >= goal or self.failures:
                    break
            time.sleep(0.02)
        with self._lock:
            assert not self.failures, self.failures
            assert len(self.acks) >= goal, f"only {len(self.acks)} of {goal} awards in {seconds} s"

    def acknowledged_before(self, moment: float) -> set[str]:
        with self._lock:
            return {ack.reference for ack in self.acks if ack.answered < moment}

    def sent_after(self, moment: float) -> set[str]:
        with self._lock:
            return {reference for reference, sent in self.started if sent > moment}

    def _till(self, number: int) -> None:
        with PartnerClient(self.base, self.key_id, self.pem, max_attempts=self.max_attempts,
                           backoff=0.25) as client:
            sale = 0
            while not self._stop.is_set():
                reference = f"till-{number}-sale-{sale}"
                sale += 1
                sent = time.monotonic()
                with self._lock:
                    self.started.append((reference, sent))
                try:
                    answer = award(client, self.card, reference)
                except (PartnerAPIError, OSError, Exception) as exc:  # noqa: B014
                    with self._lock:
                        self.failures.append(f"{reference}: {type(exc).__name__}: {exc}")
                    return
                with self._lock:
                    self.acks.append(Ack(reference, sent, time.monotonic(),
                                         answer["transaction"]["id"]))


def award(client: PartnerClient, card: str, reference: str) -> dict[str, Any]:
    """One award of 100 cents, keyed by its reference; the payload, refused on userErrors."""
    answer = client.execute(AWARD, {"input": {"cardNumber": card, "amount": 100,
                                              "currency": "EUR", "reference": reference}},
                            idempotency_key=reference)
    payload = answer["data"]["awardPoints"]
    if payload["userErrors"]:
        raise AssertionError(f"{reference}: {payload['userErrors']}")
    return payload


def network_with_member(db: Database, base: str) -> tuple[str, str, str]:
    """A partner with a key (through the database) and a member enrolled over the API:
    (key id, private key PEM, card number)."""
    key_id, pem = partner_with_key(db, earn_rate="1")
    with PartnerClient(base, key_id, pem) as client:
        card = client.execute(ENROL, {"input": {"phone": "+31 20 555 0123"}}
                              )["data"]["enrolMember"]["member"]["cardNumber"]
    return key_id, pem, card
