"""32 members race for the last 5 coupons over real HTTP: one uvicorn with two worker
processes on PostgreSQL, every buyer's request on its own connection, all released together.
Exactly 5 are sold, no code is given twice, nobody pays for nothing, and the ledger verifies."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from network import cards, ledger, members, parties
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import member_balances
from network.hashing import Keys
from network.ledger.verify import verify
from network.programme import rewards_store
from network.programme.rewards import RewardSpec
from network.programme.rewards_schema import reward_codes, reward_purchases
from network.signin import sessions
from tests.support.hub_process import hub_process

SECRET = "reward-races-secret"
BUY = (Path(__file__).resolve().parents[2] / "graphql" / "operations" / "member"
       / "BuyReward.graphql").read_text()
BUYERS, LEFT, PRICE = 32, 5, 100


@pytest.fixture(scope="module")
def server(pg_url: str) -> Iterator[str]:
    with hub_process(pg_url, SECRET) as base:
        yield base


def _buyers(db: Database, issuer: int) -> list[tuple[int, str]]:
    out = []
    for _ in range(BUYERS):
        card = cards.generate()
        m = members.enrol(db, secret=SECRET, scope="system", idempotency_key=f"e-{card}",
                          enrolled_by=issuer, card_number=card)
        ledger.earn(db, scope="seed", idempotency_key=f"s-{m.id}", issuer_id=issuer,
                    member_id=m.id, points=PRICE * 3)
        token = db.write(lambda c, m=m: sessions.create(
            c, Keys(SECRET), member_id=m.id, kind="bearer", now=utcnow(), user_agent="race",
            ip="127.0.0.1"))[0]
        out.append((m.id, token))
    return out


def _reward(db: Database, partner: int, **spec: Any) -> int:
    made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
        kind="coupon", name_en="Last coupons", name_fa="آخرین کوپن‌ها", price_points=PRICE,
        **spec), scope="staff", idempotency_key=f"c-{spec}")
    rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                             scope="staff", idempotency_key=f"a-{made.id}")
    return made.id


def _race(base: str, reward_gid: str, buyers: list[tuple[int, str]]) -> list[dict[str, Any]]:
    start = threading.Barrier(len(buyers))

    def buy(buyer: tuple[int, str]) -> dict[str, Any]:
        _, token = buyer
        body = {"query": BUY, "variables": {"rewardId": reward_gid,
                                            "idempotencyKey": f"tap-{reward_gid}"}}
        start.wait()
        response = httpx.post(f"{base}/graphql", json=body, timeout=60,
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        return response.json()["data"]["buyReward"]

    with ThreadPoolExecutor(max_workers=len(buyers)) as pool:
        return list(pool.map(buy, buyers))


def _check(db: Database, reward_id: int, answers: list[dict[str, Any]], refusal: str,
           sold_in_all: int) -> None:
    outcomes = Counter("ok" if not a["userErrors"] else a["userErrors"][0]["code"]
                       for a in answers)
    assert outcomes == {"ok": LEFT, refusal: BUYERS - LEFT}
    given = [a["reward"]["code"] for a in answers if a["reward"]]
    assert len(set(given)) == LEFT
    stored = db.read(lambda c: c.execute(
        select(func.count(), func.count(func.distinct(reward_purchases.c.code_id)))
        .where(reward_purchases.c.reward_id == reward_id)).one())
    assert tuple(stored) == (LEFT, LEFT)
    paid = db.read(lambda c: c.execute(select(func.sum(member_balances.c.balance))).scalar_one())
    assert paid == BUYERS * PRICE * 3 - sold_in_all * PRICE  # nobody paid for nothing
    assert verify(db) == []


def test_32_buyers_of_the_last_5_coupons_get_exactly_5(server: str, pg_db: Database) -> None:
    from graphql_relay import to_global_id

    issuer = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe"))
    honour = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop", name="Shop"))
    buyers = _buyers(pg_db, issuer)

    stocked = _reward(pg_db, honour, stock=LEFT)  # hub codes, stock 5
    _check(pg_db, stocked, _race(server, to_global_id("Reward", str(stocked)), buyers),
           "OUT_OF_STOCK", LEFT)
    assert pg_db.read(rewards_store.get, stocked).spec.stock == 0

    pooled = _reward(pg_db, honour, code_source="pool")  # unlimited stock, 5 codes left
    rewards_store.upload_codes(pg_db, partner_id=honour, reward_id=pooled,
                               csv_text="".join(f"POOL-{i:04d}\n" for i in range(LEFT)),
                               scope="staff", idempotency_key="codes")
    answers = _race(server, to_global_id("Reward", str(pooled)), buyers)
    _check(pg_db, pooled, answers, "CODES_EXHAUSTED", 2 * LEFT)
    free = pg_db.read(lambda c: c.execute(select(func.count()).select_from(reward_codes)
                                          .where(reward_codes.c.reward_id == pooled,
                                                 reward_codes.c.purchase_id.is_(None)))
                      .scalar_one())
    assert free == 0
