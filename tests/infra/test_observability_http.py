"""A realistic run through a real `pointsnet serve --workers 2` on PostgreSQL: enrolment,
awards (one retried: an idempotent replay), a redemption, forged signatures, a member signing in
with a code. Then /metrics is scraped and parsed with prometheus-client's own parser, its sums
covering both worker processes, and the hub's logs are read: every line JSON, the request ids
the responses returned among them, and none of the personal data or secrets sent."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from network.db.engine import Database
from partners.client import PartnerClient, sign_graphql
from partners.signatures import load_private_key
from tests.support.serve_process import partner_with_key, serve_process

ROOT = Path(__file__).resolve().parents[2]
PARTNER_OPS = ROOT / "graphql" / "operations" / "partner"
MEMBER_OPS = ROOT / "graphql" / "operations" / "member"
PHONES = ["+31 20 555 0101", "+31 20 555 0102"]
EMAIL = "sara.observed@example.com"


def op(folder: Path, name: str) -> str:
    return (folder / f"{name}.graphql").read_text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, through the library's own parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_and_logs_of_a_realistic_run(pg_db: Database, tmp_path: Path) -> None:
    key_id, pem = partner_with_key(pg_db, earn_rate="2")
    secrets_sent: list[str] = [key_id, EMAIL, *PHONES, *(p.replace(" ", "") for p in PHONES)]
    secrets_sent += [line for line in pem.splitlines() if "-----" not in line]
    with serve_process(pg_db.url, "observe-secret", tmp_path) as hub:
        cards = []
        with PartnerClient(hub.base, key_id, pem) as client:
            for index, phone in enumerate(PHONES):
                contact = {"phone": phone, **({"email": EMAIL} if index == 0 else {})}
                enrolled = client.execute(op(PARTNER_OPS, "EnrolMember"), {"input": contact})
                cards.append(enrolled["data"]["enrolMember"]["member"]["cardNumber"])
            award = op(PARTNER_OPS, "AwardPoints")
            for index in range(4):
                answer = client.execute(award, {"input": {
                    "cardNumber": cards[index % 2], "amount": 1000, "currency": "EUR"}})
                assert answer["data"]["awardPoints"]["userErrors"] == []
            retried = {"input": {"cardNumber": cards[0], "amount": 500, "currency": "EUR"}}
            first = client.execute(award, retried, idempotency_key="till-7-receipt-1")
            again = client.execute(award, retried, idempotency_key="till-7-receipt-1")
            assert again["data"] == first["data"]  # answered from the stored response
            # A batch, retried whole (its three lines answered again), then again with one
            # line more: three plus three replayed lines, one booked.
            batch = [{"cardNumber": cards[index % 2], "amount": 100 * (index + 1),
                      "currency": "EUR"} for index in range(4)]
            for lines in (batch[:3], batch[:3], batch):
                done = client.execute(op(PARTNER_OPS, "AwardPointsBatch"),
                                      {"input": {"lines": lines}},
                                      idempotency_key="till-7-batch-1")
                assert done["data"]["awardPointsBatch"]["accepted"] == len(lines)
            redeemed = client.execute(op(PARTNER_OPS, "RedeemPoints"),
                                      {"input": {"cardNumber": cards[1], "points": 10}})
            assert redeemed["data"]["redeemPoints"]["userErrors"] == []
            refused = client.execute(op(PARTNER_OPS, "RedeemPoints"),
                                     {"input": {"cardNumber": cards[1], "points": 10**6}})
            refusal = refused["data"]["redeemPoints"]["userErrors"][0]["code"]
        secrets_sent += cards + [c.replace(" ", "") for c in cards]

        # Forged: signed, then the body changed (digest) or the signature itself altered.
        body = json.dumps({"query": "{ partner { code } }"}).encode()
        signed = sign_graphql(f"{hub.base}/graphql", body, key=load_private_key(pem),
                              key_id=key_id, idempotency_key=None)
        secrets_sent.append(re.search(r":([^:]+):", signed.headers["Signature"]).group(1))
        forged = {**signed.headers, "Signature": signed.headers["Signature"][:-6] + "AAAAA:"}
        for _ in range(2):
            answer = httpx.post(signed.url, content=body, headers=forged)
            assert answer.json()["errors"][0]["extensions"]["code"] == "SIGNATURE_INVALID"

        # A member signs in with a code (the console sender is the development mailbox: stdout).
        member = httpx.Client(base_url=hub.base, timeout=10)
        asked = member.post("/graphql", json={"query": op(MEMBER_OPS, "RequestSignInCode"),
                                              "variables": {"input": {"address": EMAIL}}},
                            headers={"X-Request-Id": "member-signin-0001"})
        assert asked.headers["x-request-id"] == "member-signin-0001"
        assert asked.json()["data"]["requestSignInCode"]["userErrors"] == []
        code = _code_sent_to(hub.stdout, EMAIL)
        secrets_sent.append(code)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        verify = op(MEMBER_OPS, "VerifySignInCode")
        bad = member.post("/graphql", json={"query": verify, "variables": {
            "input": {"address": EMAIL, "code": wrong}}}).json()
        assert bad["data"]["verifySignInCode"]["userErrors"]
        good = member.post("/graphql", json={"query": verify, "variables": {
            "input": {"address": EMAIL, "code": code}}})
        token = good.json()["data"]["verifySignInCode"]["token"]
        assert token
        secrets_sent.append(token)
        generated_id = good.headers["x-request-id"]

        # Fresh connections land on either worker; each scrape sums both.
        scrapes = [samples(httpx.get(f"{hub.base}/metrics").text) for _ in range(4)]
        assert hub.stop() == 0
        assert list(hub.temp.iterdir()) == []  # serve removed its metrics directory

    for found in scrapes:
        assert value(found, "pointsnet_requests_total", operation="awardPoints",
                     outcome="OK") == 6
        assert value(found, "pointsnet_request_seconds_count", operation="awardPoints") == 6
        assert value(found, "pointsnet_ledger_operations_total", operation="awardPoints",
                     outcome="OK") == 6
        assert value(found, "pointsnet_ledger_operations_total", operation="redeemPoints",
                     outcome="OK") == 1
        assert value(found, "pointsnet_ledger_operations_total", operation="redeemPoints",
                     outcome=refusal) == 1
        assert value(found, "pointsnet_idempotent_replays_total", operation="awardPoints") == 1
        assert value(found, "pointsnet_idempotent_replays_total",
                     operation="awardPointsBatch") == 6
        assert value(found, "pointsnet_signatures_refused_total", code="SIGNATURE_INVALID") == 2
        assert value(found, "pointsnet_requests_total", operation="graphql",
                     outcome="SIGNATURE_INVALID") == 2
        assert value(found, "pointsnet_requests_total", operation="verifySignInCode",
                     outcome="OK") == 1
        assert value(found, "pointsnet_db_connections_open") >= 1
        assert ("pointsnet_outbox_pending", ()) in found

    logs = hub.logs()
    lines = [json.loads(line) for line in logs.splitlines()]  # every line is JSON
    requests = [line for line in lines if line["message"] == "request"]
    ids = {line["request_id"] for line in requests}
    assert {"member-signin-0001", generated_id} <= ids
    assert len(requests) >= 20
    assert all(set(line) >= {"ts", "level", "route", "status", "ms", "operation", "outcome"}
               for line in requests)
    leaked = [secret for secret in secrets_sent if secret and secret in logs]
    assert leaked == []
    assert code in hub.stdout.read_text()  # the code was in the hub's output: not in its logs


def _code_sent_to(stdout: Path, recipient: str) -> str:
    pattern = re.compile(rf"NOTIFY \w+ to={re.escape(recipient)} .*?\b(\d{{6}})\b")
    for _ in range(200):
        found = pattern.search(stdout.read_text())
        if found:
            return found.group(1)
        time.sleep(0.05)  # the inline drain prints it just after answering
    raise AssertionError(f"no code sent to {recipient}: {stdout.read_text()}")
