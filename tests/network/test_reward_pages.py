"""The catalog's wallet pages through the real routes, on both databases: filters and pages, the
buy form (CSRF, one purchase per form, refusals as the page's message), and a member's coupon
that nobody else can open."""

from __future__ import annotations

import re

from network.ledger.balances import summary
from network.ledger.verify import verify
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardSpec
from network.wallet.pages.reward_pages import PER_PAGE
from tests.network import wallet_world as ww
from tests.network.test_wallet_pages import (  # noqa: F401  (fixtures)
    NOW,
    browser,
    clock,
    make_browser,
    world,
)
from tests.support import ledger_world as w


def publish(db, partner: int, name: str, price: int, **more) -> int:
    made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
        kind="coupon", name_en=name, name_fa=f"{name} (fa)", price_points=price, **more),
        scope="t", idempotency_key=w.key("r"), now=NOW)
    rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                             scope="t", idempotency_key=w.key("s"), now=NOW)
    return made.id


def tiles(html: str) -> list[str]:
    return re.findall(r'data-testid="reward-(\d+)"', html)


def test_filters_and_pages(db, browser, world):  # noqa: F811
    for n in range(PER_PAGE + 2):
        publish(db, world["cafe"], f"Cafe {n}", 10 + n)
    publish(db, world["shop"], "Dear", 100_000)
    browser.sign_in("sara@example.com")
    first = browser.get("/wallet/rewards")
    assert len(tiles(first.text)) == PER_PAGE and 'data-testid="next-page"' in first.text
    second = browser.get("/wallet/rewards?page=2")
    assert len(tiles(second.text)) == 3 and 'data-testid="previous-page"' in second.text
    shop = browser.get("/wallet/rewards?partner=shop")
    assert len(tiles(shop.text)) == 1 and "Not enough points" in shop.text
    assert tiles(browser.get("/wallet/rewards?partner=shop&affordable=1").text) == []
    assert tiles(browser.get("/wallet/rewards?partner=nobody").text) == []
    assert browser.get("/wallet/rewards?page=junk").status_code == 200


def test_buying_from_the_page(db, browser, world):  # noqa: F811
    coffee = publish(db, world["cafe"], "Coffee", 300, stock=1)
    browser.sign_in("sara@example.com")
    page = browser.get(f"/wallet/rewards/{coffee}")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    forged = browser.post(f"/wallet/rewards/{coffee}/buy", {"idempotency_key": key}, csrf="x")
    assert forged.status_code == 403
    before = db.read(summary, world["sara"], NOW).spendable
    bought = browser.post(f"/wallet/rewards/{coffee}/buy", {"idempotency_key": key})
    assert bought.status_code == 303
    assert re.fullmatch(r"/wallet/my-rewards/\d+\?bought=1", bought.headers["location"])
    again = browser.post(f"/wallet/rewards/{coffee}/buy", {"idempotency_key": key})
    assert again.headers["location"] == bought.headers["location"]  # one purchase per form
    assert db.read(summary, world["sara"], NOW).spendable == before - 300
    coupon = browser.get(bought.headers["location"])
    assert 'data-testid="coupon-code"' in coupon.text and "svg" in coupon.text
    sold_out = browser.post(f"/wallet/rewards/{coffee}/buy", {"idempotency_key": "another"})
    assert sold_out.status_code == 400 and "just sold out" in sold_out.text
    assert verify(db) == []


def test_another_members_coupon_is_not_found(db, clock, world):  # noqa: F811
    coffee = publish(db, world["cafe"], "Coffee", 10)
    ali_coupon = rewards_buy.buy(db, member_id=world["ali"], reward_id=coffee,
                                 idempotency_key="a", secret=ww.SECRET, now=NOW)
    sara = make_browser(db, clock)
    sara.sign_in("sara@example.com")
    assert sara.get(f"/wallet/my-rewards/{ali_coupon.id}").status_code == 404
    assert ali_coupon.code not in sara.get("/wallet/my-rewards").text
    assert sara.get("/wallet/rewards/999999").status_code == 404
