"""Races between partner requests over real HTTP: one uvicorn with two worker processes on
PostgreSQL, several client threads released at the same instant, each request on a fresh
connection so they spread over both workers.

Every scenario ends with `ledger verify` and a conservation check, and no answer may be a 5xx
or an INTERNAL_ERROR: points are never lost or duplicated whichever request wins.
(Ledger-level races without HTTP live in tests/network/test_ledger_concurrency.py.)
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from network import cards, members
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import journal_entries, member_balances, postings
from network.db.schema import members as members_table
from network.ledger.verify import verify
from partners.client import sign_graphql
from partners.keys import create_key
from partners.registry import create_partner
from partners.signatures import load_private_key
from tests.partners.conftest import CAFE_TERMS, SHOP_TERMS, operation
from tests.support.hub_process import hub_process

SECRET = "races-secret"


@pytest.fixture(scope="module")
def server(pg_url: str) -> Iterator[str]:
    """One uvicorn, two workers, for the whole module (each test truncates the tables)."""
    with hub_process(pg_url, SECRET) as base:
        yield base


@dataclass
class Partner:
    party_id: int
    key_id: str
    pem: str


@dataclass
class Net:
    base: str
    db: Database
    partners: dict[str, Partner]

    def sign(self, code: str, name: str, variables: dict[str, Any],
             key: str | None) -> tuple[str, bytes, dict[str, str]]:
        partner = self.partners[code]
        body = json.dumps({"query": operation(name), "variables": variables}).encode()
        signed = sign_graphql(f"{self.base}/graphql", body, key=load_private_key(partner.pem),
                              key_id=partner.key_id, idempotency_key=key)
        return signed.url, body, signed.headers

    def post(self, code: str, name: str, variables: dict[str, Any],
             key: str | None = None) -> httpx.Response:
        """One signed request on a fresh connection (so either worker may take it)."""
        url, body, headers = self.sign(code, name, variables, key)
        return _checked(httpx.post(url, content=body, headers=headers, timeout=30))

    def call(self, code: str, name: str, variables: dict[str, Any], key: str) -> dict[str, Any]:
        """A mutation as the SDK runs it: retried with the same key while the hub says 409."""
        for _ in range(100):
            response = self.post(code, name, variables, key)
            if response.status_code != 409:
                assert response.status_code == 200, response.text
                return next(iter(response.json()["data"].values()))
            time.sleep(0.01)
        raise AssertionError("still 409 after 100 attempts")

    def calling(self, code: str, name: str, variables: dict[str, Any],
                key: str) -> Callable[[], dict[str, Any]]:
        """`call`, to run later (in a race)."""
        return lambda: self.call(code, name, variables, key)


def _checked(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, response.text
    assert "INTERNAL_ERROR" not in response.text, response.text
    return response


@pytest.fixture
def net(server: str, pg_db: Database) -> Net:
    now = utcnow()

    def setup(conn: object) -> dict[str, Partner]:
        made = {}
        for code, terms in (("cafe", CAFE_TERMS), ("shop", SHOP_TERMS)):
            partner = create_partner(conn, code=code, name=code.title(), terms=terms, now=now)
            key, pem = create_key(conn, party_id=partner.id, now=now)
            made[code] = Partner(partner.id, key.key_id, pem)
        return made

    return Net(server, pg_db, pg_db.write(setup))


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    start = threading.Barrier(len(calls))

    def go(fn: Callable[[], Any]) -> Any:
        start.wait()
        return fn()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(go, calls))


def race_both_ways(round_: int, first: Callable[[], Any],
                   second: Callable[[], Any]) -> tuple[Any, Any]:
    """`race(first, second)`, started in the other order on odd rounds: the thread started
    first tends to win, and each order should get its turn."""
    if round_ % 2:
        b, a = race(second, first)
    else:
        a, b = race(first, second)
    return a, b


def enrol(net: Net, phone: str | None = None) -> str:
    """A member enrolled directly (setup, not under test); returns the card number."""
    card = cards.generate()
    members.enrol(net.db, secret=SECRET, scope="system", idempotency_key=f"enrol-{card}",
                  enrolled_by=net.partners["cafe"].party_id, card_number=card, phone=phone)
    return card


def award(net: Net, card: str, amount: int, key: str) -> str:
    """Award at the café (10 points per euro, vested at once); the transaction's id."""
    answer = net.call("cafe", "AwardPoints",
                      {"input": {"cardNumber": card, "amount": amount, "currency": "EUR"}}, key)
    assert answer["userErrors"] == []
    return answer["transaction"]["id"]


def codes(answer: dict[str, Any]) -> list[str]:
    return [e["code"] for e in answer["userErrors"]]


def outcome(answer: dict[str, Any]) -> str:
    return "ok" if not answer["userErrors"] else answer["userErrors"][0]["code"]


def balance_of(net: Net, card: str) -> tuple[int, int, int]:
    def read(conn: Any) -> tuple[int, int, int]:
        row = conn.execute(
            select(member_balances.c.balance, member_balances.c.held, member_balances.c.debt)
            .join(members_table, members_table.c.id == member_balances.c.member_id)
            .where(members_table.c.card_number == card)).one()
        return tuple(row)  # type: ignore[return-value]

    return net.db.read(read)


def assert_ledger_sound(db: Database) -> None:
    """Nothing for `ledger verify` to report, and members hold exactly what parties gave out."""
    assert verify(db) == []

    def sums(conn: Any) -> tuple[int, int, int]:
        net_total = conn.execute(select(func.coalesce(func.sum(postings.c.points), 0))).scalar_one()
        outside = conn.execute(select(func.coalesce(func.sum(postings.c.points), 0))
                               .where(postings.c.party_id.is_not(None))).scalar_one()
        held = conn.execute(select(func.coalesce(
            func.sum(member_balances.c.balance + member_balances.c.held), 0))).scalar_one()
        return int(net_total), int(outside), int(held)

    net_total, outside, held_by_members = db.read(sums)
    assert net_total == 0
    assert held_by_members == -outside


def entry_count(db: Database, kind: str) -> int:
    return db.read(lambda c: c.execute(select(func.count()).select_from(journal_entries)
                                       .where(journal_entries.c.kind == kind)).scalar_one())


def test_capture_and_void_of_one_hold_race_to_exactly_one_close(net: Net) -> None:
    card = enrol(net)
    award(net, card, 3000, "seed")  # 300 points
    outcomes: Counter[str] = Counter()
    for i in range(4):
        hold = net.call("shop", "AuthorizeHold",
                        {"input": {"cardNumber": card, "points": 50}}, f"hold-{i}")
        hold_id = hold["hold"]["id"]
        capture, void = race_both_ways(
            i,
            net.calling("shop", "CaptureHold", {"input": {"holdId": hold_id, "points": 30}},
                        f"capture-{i}"),
            net.calling("shop", "VoidHold", {"input": {"holdId": hold_id}}, f"void-{i}"),
        )
        pair = sorted([outcome(capture), outcome(void)])
        assert pair == ["HOLD_NOT_ACTIVE", "ok"], (capture, void)
        outcomes["capture" if outcome(capture) == "ok" else "void"] += 1
    captured = 30 * outcomes["capture"]
    assert balance_of(net, card) == (300 - captured, 0, 0)
    assert entry_count(net.db, "capture") + entry_count(net.db, "void") == 4
    assert_ledger_sound(net.db)


def test_two_partial_captures_cannot_take_more_than_the_hold(net: Net) -> None:
    card = enrol(net)
    award(net, card, 1000, "seed")  # 100 points
    hold = net.call("shop", "AuthorizeHold", {"input": {"cardNumber": card, "points": 60}}, "h")
    hold_id = hold["hold"]["id"]
    answers = race(*[
        (lambda i=i: net.call("shop", "CaptureHold",
                              {"input": {"holdId": hold_id, "points": 40}}, f"capture-{i}"))
        for i in range(3)
    ])
    assert sorted(outcome(a) for a in answers) == ["HOLD_NOT_ACTIVE", "HOLD_NOT_ACTIVE", "ok"]
    assert balance_of(net, card) == (60, 0, 0)  # 40 captured, 20 given back
    assert entry_count(net.db, "capture") == 1
    assert_ledger_sound(net.db)


def test_refund_of_an_earn_racing_a_redemption_of_its_points(net: Net) -> None:
    for i in range(4):
        card = enrol(net)
        earn_id = award(net, card, 1000, f"seed-{i}")  # 100 points, all from this earn
        refund, spend = race_both_ways(
            i,
            net.calling("cafe", "ReverseEarn", {"input": {"transactionId": earn_id}},
                        f"refund-{i}"),
            net.calling("shop", "RedeemPoints", {"input": {"cardNumber": card, "points": 100}},
                        f"spend-{i}"),
        )
        assert outcome(refund) == "ok", refund
        if outcome(spend) == "ok":  # spent first: the refund leaves a debt of what was spent
            assert balance_of(net, card) == (-100, 0, 100)
        else:
            assert codes(spend) == ["INSUFFICIENT_POINTS"]
            assert balance_of(net, card) == (0, 0, 0)
    assert_ledger_sound(net.db)


def test_two_reversals_of_one_entry_cannot_reverse_more_than_it(net: Net) -> None:
    card = enrol(net)
    earn_id = award(net, card, 1000, "seed")  # 100 points
    answers = race(*[
        (lambda i=i: net.call("cafe", "ReverseEarn",
                              {"input": {"transactionId": earn_id, "points": 70}}, f"rev-{i}"))
        for i in range(3)
    ])
    assert sorted(outcome(a) for a in answers) == [
        "REVERSAL_EXCEEDS_ORIGINAL", "REVERSAL_EXCEEDS_ORIGINAL", "ok"]
    assert balance_of(net, card) == (30, 0, 0)

    spent = net.call("shop", "RedeemPoints", {"input": {"cardNumber": card, "points": 30}}, "r")
    redemption_id = spent["transaction"]["id"]
    answers = race(*[
        (lambda i=i: net.call("shop", "ReverseRedemption",
                              {"input": {"transactionId": redemption_id, "points": 20}},
                              f"give-back-{i}"))
        for i in range(3)
    ])
    assert sorted(outcome(a) for a in answers) == [
        "REVERSAL_EXCEEDS_ORIGINAL", "REVERSAL_EXCEEDS_ORIGINAL", "ok"]
    assert balance_of(net, card) == (20, 0, 0)
    assert_ledger_sound(net.db)


@pytest.mark.parametrize("name", ["AwardPoints", "RedeemPoints", "AuthorizeHold"])
def test_one_idempotency_key_sent_at_once_to_both_workers_books_once(net: Net, name: str) -> None:
    card = enrol(net)
    award(net, card, 5000, "seed")  # 500 points
    variables = ({"input": {"cardNumber": card, "amount": 700, "currency": "EUR"}}
                 if name == "AwardPoints" else {"input": {"cardNumber": card, "points": 70}})
    kind = {"AwardPoints": "earn", "RedeemPoints": "redeem", "AuthorizeHold": "hold"}[name]
    before = entry_count(net.db, kind)
    # Each copy signed afresh (its own nonce), like a till retrying on another connection.
    responses = race(*[(lambda: net.post("shop" if kind != "earn" else "cafe", name, variables,
                                         "same-key")) for _ in range(8)])
    answered = [r for r in responses if r.status_code == 200]
    assert answered, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
        else:
            assert r.status_code == 200, r.text
    ids = {next(iter(r.json()["data"].values()))["transaction"]["id"] for r in answered}
    assert len(ids) == 1 and None not in ids
    assert entry_count(net.db, kind) == before + 1
    expected = 570 if kind == "earn" else 430
    assert balance_of(net, card)[0] == expected
    assert_ledger_sound(net.db)


def test_a_batch_and_single_awards_to_the_same_members_at_once(net: Net) -> None:
    cards_ = [enrol(net) for _ in range(5)]
    # One member owes a debt, so the batch hands that line to the general path too.
    earn_id = award(net, cards_[0], 100, "seed")  # 10 points
    net.call("shop", "RedeemPoints", {"input": {"cardNumber": cards_[0], "points": 10}}, "spend")
    net.call("cafe", "ReverseEarn", {"input": {"transactionId": earn_id}}, "refund")
    assert balance_of(net, cards_[0]) == (-10, 0, 10)
    lines = [{"cardNumber": c, "amount": 1000, "currency": "EUR"} for c in cards_ * 2]

    def batch(key: str) -> Callable[[], dict[str, Any]]:
        return lambda: net.call("cafe", "AwardPointsBatch", {"input": {"lines": lines}}, key)

    def single(card: str, key: str) -> Callable[[], dict[str, Any]]:
        return lambda: net.call("cafe", "AwardPoints", {"input": {
            "cardNumber": card, "amount": 500, "currency": "EUR"}}, key)

    answers = race(batch("batch-a"), batch("batch-b"),
                   *[single(c, f"single-{i}") for i, c in enumerate(cards_)],
                   *[single(c, f"single-again-{i}") for i, c in enumerate(cards_)])
    for answer in answers[:2]:
        assert answer["userErrors"] == [] and answer["accepted"] == 10, answer
    for answer in answers[2:]:
        assert answer["userErrors"] == [], answer
    # Each member: 2 batches x 2 lines x 100 points, and 2 singles x 50 points.
    assert balance_of(net, cards_[0]) == (500 - 10, 0, 0)
    for card in cards_[1:]:
        assert balance_of(net, card) == (500, 0, 0)
    assert_ledger_sound(net.db)


def test_the_same_phone_enrolled_at_two_partners_at_once_is_one_member(net: Net) -> None:
    for i in range(4):
        phone = f"+31 20 555 01{i:02d}"
        answers = race(*[
            net.calling(code, "EnrolMember", {"input": {"phone": phone}}, f"enrol-{i}-{j}")
            for j, code in enumerate(["cafe", "shop", "cafe", "shop"])
        ])
        assert sorted(outcome(a) for a in answers) == ["MEMBER_EXISTS"] * 3 + ["ok"], answers
        assert len({a["member"]["cardNumber"] for a in answers}) == 1, answers
    card = cards.generate()  # a card handed out twice: the same race on the card number
    answers = race(*[net.calling(code, "EnrolMember", {"input": {"cardNumber": card}},
                                 f"enrol-card-{code}") for code in ("cafe", "shop")])
    assert sorted(outcome(a) for a in answers) == ["MEMBER_EXISTS", "ok"], answers
    count = net.db.read(lambda c: c.execute(select(func.count()).select_from(members_table))
                        .scalar_one())
    assert count == 5
    assert_ledger_sound(net.db)


def test_a_replayed_nonce_is_accepted_once_across_workers_at_the_same_instant(net: Net) -> None:
    card = enrol(net)
    url, body, headers = net.sign(
        "cafe", "AwardPoints", {"input": {"cardNumber": card, "amount": 1000, "currency": "EUR"}},
        "replayed")
    responses = race(*[(lambda: _checked(httpx.post(url, content=body, headers=headers,
                                                    timeout=30))) for _ in range(10)])
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 401: 9}, [r.text for r in responses]
    for r in responses:
        if r.status_code == 401:
            assert r.json()["errors"][0]["extensions"]["code"] == "NONCE_REPLAYED"
    assert balance_of(net, card) == (100, 0, 0)
    assert_ledger_sound(net.db)


def test_a_refund_racing_the_capture_or_void_of_a_hold_on_its_points(net: Net) -> None:
    for i, close in enumerate(["CaptureHold", "VoidHold", "CaptureHold", "VoidHold"]):
        card = enrol(net)
        earn_id = award(net, card, 1000, f"seed-{i}")  # 100 points, all from this earn
        hold = net.call("shop", "AuthorizeHold", {"input": {"cardNumber": card, "points": 80}},
                        f"hold-{i}")
        closing = {"holdId": hold["hold"]["id"]}
        if close == "CaptureHold":
            closing["points"] = 50
        refund, closed = race_both_ways(
            i // 2,
            net.calling("cafe", "ReverseEarn", {"input": {"transactionId": earn_id}},
                        f"refund-{i}"),
            net.calling("shop", close, {"input": closing}, f"close-{i}"),
        )
        assert outcome(refund) == "ok" and outcome(closed) == "ok", (refund, closed)
        balance, held, debt = balance_of(net, card)
        spent = 50 if close == "CaptureHold" else 0
        assert (balance, held) == (-spent, 0)  # 100 earned, 100 refunded, `spent` paid
        assert debt == spent
    assert_ledger_sound(net.db)


def test_one_batch_sent_at_once_to_both_workers_books_each_line_once(net: Net) -> None:
    cards_ = [enrol(net) for _ in range(4)]
    earn_id = award(net, cards_[0], 100, "seed")  # then a debt of 10: the ledger path too
    net.call("shop", "RedeemPoints", {"input": {"cardNumber": cards_[0], "points": 10}}, "spend")
    net.call("cafe", "ReverseEarn", {"input": {"transactionId": earn_id}}, "refund")
    variables = {"input": {"lines": [{"cardNumber": c, "amount": 1000, "currency": "EUR"}
                                     for c in cards_]}}
    responses = race(*[(lambda: net.post("cafe", "AwardPointsBatch", variables, "batch"))
                       for _ in range(6)])
    answered = [r.json()["data"]["awardPointsBatch"] for r in responses if r.status_code == 200]
    assert answered
    for r in responses:
        assert r.status_code in (200, 409), r.text
        if r.status_code == 409:
            assert r.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    for answer in answered:
        assert answer["userErrors"] == [] and answer["rejected"] == 0, answer
    assert len({json.dumps(a["results"], sort_keys=True) for a in answered}) == 1
    assert entry_count(net.db, "earn") == 1 + 4
    assert balance_of(net, cards_[0]) == (90, 0, 0)
    for card in cards_[1:]:
        assert balance_of(net, card) == (100, 0, 0)
    assert_ledger_sound(net.db)


def test_one_enrolment_sent_at_once_to_both_workers_enrols_once(net: Net) -> None:
    variables = {"input": {"phone": "+31 20 555 0199", "displayName": "Ann"}}
    responses = race(*[(lambda: net.post("shop", "EnrolMember", variables, "enrol"))
                       for _ in range(6)])
    cards_seen = set()
    for r in responses:
        assert r.status_code in (200, 409), r.text
        if r.status_code == 200:
            answer = r.json()["data"]["enrolMember"]
            assert answer["userErrors"] == [], answer
            cards_seen.add(answer["member"]["cardNumber"])
        else:
            assert r.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert len(cards_seen) == 1
    count = net.db.read(lambda c: c.execute(select(func.count()).select_from(members_table))
                        .scalar_one())
    assert count == 1
