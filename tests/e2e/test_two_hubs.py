"""Two hub processes, one database: the hub keeps no state a second hub would need (issue 22).

Two `pointsnet serve` processes on different ports share one PostgreSQL database, as behind a
load balancer: every request carries the balancer's Host (the hubs see the same @authority a
partner signed) and requests are mixed between them. Nonces, idempotency keys, sign-in codes,
sessions and rate limits live in PostgreSQL, so whichever hub answers gives the same answer. The
hubs' in-process caches hold only what cannot go stale or what is re-checked where it matters:
a key revoked while hub B has it cached is refused by B at the very next request, because the
nonce statement re-reads the key's status (README, "Scaling out", lists each cache and its
bound).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select

from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import journal_entries
from partners.client import sign_graphql
from partners.keys import revoke_key
from partners.signatures import load_private_key
from tests.support.hub_process import ROOT
from tests.support.serve_process import Served, partner_with_key, serve_process

PARTNER_OPS = ROOT / "graphql" / "operations" / "partner"
MEMBER_OPS = ROOT / "graphql" / "operations" / "member"
EMAIL, OTHER_EMAIL = "sara.twohubs@example.com", "omid.twohubs@example.com"
# Development: plain (not Secure, not __Host-) cookies, which httpx sends over http.
ENV = {"POINTSNET_ENV": "development", "POINTSNET_NOTIFY_INLINE_DRAIN": "1"}


def op(folder: Path, name: str) -> str:
    return (folder / f"{name}.graphql").read_text()


def code_sent(hub: Served, recipient: str, after: int) -> str:
    """The code in the newest line the console sender printed for `recipient` past `after`."""
    pattern = re.compile(rf"NOTIFY \w+ to={re.escape(recipient)} .*?\b(\d{{6}})\b")
    for _ in range(400):
        found = pattern.findall(hub.stdout.read_text()[after:])
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no code sent to {recipient}: {hub.stdout.read_text()}")


def test_two_hubs_answer_as_one(pg_db: Database, tmp_path: Path) -> None:
    key_id, pem = partner_with_key(pg_db, earn_rate="2")
    key = load_private_key(pem)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serve_process(pg_db.url, "two-hubs-secret", tmp_path / "a", workers=1, env=ENV) as a, \
            serve_process(pg_db.url, "two-hubs-secret", tmp_path / "b", workers=1,
                          env=ENV) as b, httpx.Client(timeout=30) as http:
        balancer = urlsplit(a.base).netloc  # the Host every request carries

        def signed(hub: Served, query: str, variables: dict, idem: str | None = None,
                   *, again: httpx.Request | None = None) -> httpx.Response:
            """A signed GraphQL POST to `hub` (or the exact request `again`, resent there)."""
            if again is None:
                body = json.dumps({"query": query, "variables": variables}).encode()
                made = sign_graphql(f"http://{balancer}/graphql", body, key=key, key_id=key_id,
                                    idempotency_key=idem)
                headers, content = httpx.Headers(made.headers), body
            else:
                headers, content = httpx.Headers(again.headers), again.content
                del headers["content-length"]
            headers["Host"] = balancer  # replaces any host header, whatever its case
            return http.post(f"{hub.base}/graphql", content=content, headers=headers)

        # Enrol on A; the same idempotency key on B answers with the same member.
        enrol = {"input": {"phone": "+31205550199", "email": EMAIL}}
        on_a = signed(a, op(PARTNER_OPS, "EnrolMember"), enrol, "enrol-sara")
        on_b = signed(b, op(PARTNER_OPS, "EnrolMember"), enrol, "enrol-sara")
        card = on_a.json()["data"]["enrolMember"]["member"]["cardNumber"]
        assert on_b.json()["data"] == on_a.json()["data"]

        # A nonce used on A is refused on B: the very same signed request, resent.
        award = {"input": {"cardNumber": card, "amount": 1000, "currency": "EUR",
                           "reference": "R-1"}}
        first = signed(a, op(PARTNER_OPS, "AwardPoints"), award, "till-1")
        assert first.json()["data"]["awardPoints"]["userErrors"] == []
        replayed = signed(b, "", {}, again=first.request)
        assert replayed.status_code == 401
        assert replayed.json()["errors"][0]["extensions"]["code"] == "NONCE_REPLAYED"

        # The same idempotency key, freshly signed, on B: the first answer, booked once.
        retried = signed(b, op(PARTNER_OPS, "AwardPoints"), award, "till-1")
        assert retried.json()["data"] == first.json()["data"]
        booked = pg_db.read(lambda conn: conn.execute(select(func.count()).where(
            journal_entries.c.reference == "R-1")).scalar_one())
        assert booked == 1

        # A member signs in on the web: code asked on A, typed in on B, the wallet read on A.
        page = http.get(f"{a.base}/signin", headers={"Host": balancer})
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore
        mark = len(a.stdout.read_text())
        asked = http.post(f"{a.base}/signin", headers={"Host": balancer},
                          data={"csrf": csrf, "address": EMAIL})
        assert asked.status_code == 303, asked.text
        code = code_sent(a, EMAIL, mark)
        typed = http.post(f"{b.base}/signin/code", headers={"Host": balancer},
                          data={"csrf": csrf, "code": code})
        assert typed.status_code == 303 and typed.headers["location"].endswith("/wallet")
        for hub in (a, b):
            wallet = http.get(f"{hub.base}/wallet", headers={"Host": balancer})
            assert wallet.status_code == 200 and "20" in wallet.text
            assert card[-4:] in wallet.text

        # The API's sign-in: code asked on B, verified on A, the bearer token good on both.
        mark = len(b.stdout.read_text())
        requested = http.post(f"{b.base}/graphql", headers={"Host": balancer}, json={
            "query": op(MEMBER_OPS, "RequestSignInCode"), "variables": {"input": {
                "address": EMAIL}}})
        assert requested.json()["data"]["requestSignInCode"]["userErrors"] == [], requested.text
        verified = http.post(f"{a.base}/graphql", headers={"Host": balancer}, json={
            "query": op(MEMBER_OPS, "VerifySignInCode"), "variables": {"input": {
                "address": EMAIL, "code": code_sent(b, EMAIL, mark)}}})
        token = verified.json()["data"]["verifySignInCode"]["token"]
        for hub in (a, b):
            me = http.post(f"{hub.base}/graphql",
                           json={"query": "{ me { cardNumber wallet { total } } }"},
                           headers={"Host": balancer, "Authorization": f"Bearer {token}"})
            assert me.json()["data"]["me"] == {"cardNumber": card, "wallet": {"total": 20}}, \
                me.text

        # Rate limits are shared: five code requests for one address an hour, wherever asked.
        answers = []
        for index in range(6):
            hub = (a, b)[index % 2]
            answers.append(http.post(f"{hub.base}/graphql", headers={"Host": balancer}, json={
                "query": op(MEMBER_OPS, "RequestSignInCode"),
                "variables": {"input": {"address": OTHER_EMAIL}}}).json())
        codes = [[e["code"] for e in answer["data"]["requestSignInCode"]["userErrors"]]
                 for answer in answers]
        assert codes == [[], [], [], [], [], ["RATE_LIMITED"]]

        # A key revoked (by the operator, on A's database) while B holds it in its key cache:
        # B refuses the next request it signs.
        warm = signed(b, "{ partner { code } }", {})
        assert warm.json()["data"]["partner"]["code"] == "kiosk"
        pg_db.write(lambda conn: revoke_key(conn, key_id, utcnow()))
        refused = signed(b, "{ partner { code } }", {})
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "KEY_REVOKED"
        assert signed(a, "{ partner { code } }", {}).status_code == 401
