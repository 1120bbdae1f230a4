"""The catalog in a real browser (Debian's Chromium, a real uvicorn, PostgreSQL): browse,
filter by what the member can afford, buy, show the coupon as text and QR, on a phone in
English, then "my rewards" in Persian; the same pages on a desktop.

Screenshots go to tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from network import parties
from network.clock import utcnow
from network.db.engine import Database
from network.ledger.balances import summary
from network.ledger.verify import verify
from network.programme import rewards_store
from network.programme.rewards import RewardSpec
from network.programme.rewards_schema import reward_purchases
from tests.e2e.test_wallet_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    PHONE,
    Hub,
    digits,
    hub,
    shot,
    sign_in,
)
from tests.network import wallet_world as ww


def _reward(db: Database, partner: int, name_en: str, name_fa: str, price: int,
            **more: object) -> int:
    made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
        kind="coupon", name_en=name_en, name_fa=name_fa, price_points=price,
        description_en=f"{name_en}, at the café.", description_fa=f"{name_fa}، در کافه.",
        **more), scope="test", idempotency_key=f"r-{name_en}")  # type: ignore[arg-type]
    rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                             scope="test", idempotency_key=f"on-{name_en}")
    return made.id


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    now = utcnow()
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop",
                                                name="Bazaar", name_fa="بازار"))
    sara = ww.enrol(pg_db, email="sara@example.com", phone="+989121234567", name="Sara",
                    by=cafe)
    ww.earn(pg_db, cafe, sara, 1200, at=now - dt.timedelta(days=3), reference="RCPT-1")
    coffee = _reward(pg_db, cafe, "Free coffee", "قهوهٔ رایگان", 300)
    _reward(pg_db, cafe, "Cake for two", "کیک برای دو نفر", 5000)
    _reward(pg_db, shop, "Free delivery", "ارسال رایگان", 250, stock=0)
    return {"cafe": cafe, "sara": sara, "coffee": coffee}


@pytest.mark.browser
def test_browse_buy_and_show_a_coupon_in_english_and_persian(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int]) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page = context.new_page()
    sign_in(page, hub, "sara@example.com", "rewards_phone_en")
    page.get_by_test_id("rewards-link").click()
    expect(page.locator("[data-testid^=reward-]")).to_have_count(3)
    expect(page.get_by_test_id("rewards-list")).to_contain_text("Sold out")
    expect(page.get_by_test_id("rewards-list")).to_contain_text("Not enough points")
    shot(page, "rewards_phone_en_catalog")
    page.get_by_test_id("only-affordable").check()
    page.click("form[data-testid=rewards-filter] button[type=submit]")
    expect(page.locator("[data-testid^=reward-]")).to_have_count(1)
    page.click(f"[data-testid=reward-{world['coffee']}] a")
    expect(page.get_by_test_id("reward-page")).to_contain_text("Free coffee")
    shot(page, "rewards_phone_en_reward")
    page.get_by_test_id("buy-reward").click()
    expect(page.get_by_test_id("bought-notice")).to_contain_text("Show this code at Café Roma")
    code = page.get_by_test_id("coupon-code").inner_text()
    stored = pg_db.read(lambda c: c.execute(select(reward_purchases.c.id)).all())
    assert len(stored) == 1
    assert len(code.replace("-", "")) == 14
    expect(page.locator("[data-testid=coupon] svg.qr")).to_be_visible()
    expect(page.get_by_test_id("coupon-status")).to_have_text("Ready to use")
    assert pg_db.read(summary, world["sara"], utcnow()).spendable == 900
    shot(page, "rewards_phone_en_coupon")

    page.goto(f"{hub.base}/wallet/my-rewards")
    expect(page.locator("[data-testid=my-rewards] li")).to_have_count(1)
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("my-rewards")).to_contain_text("قهوهٔ رایگان")
    expect(page.get_by_test_id("my-rewards")).to_contain_text("آمادهٔ استفاده")
    shot(page, "rewards_phone_fa_my_rewards")
    page.click("[data-testid^=my-reward-]")
    assert page.get_by_test_id("coupon-code").inner_text() == code  # codes stay Latin
    expect(page.get_by_test_id("coupon-status")).to_have_text("آمادهٔ استفاده")
    shot(page, "rewards_phone_fa_coupon")
    page.goto(f"{hub.base}/wallet/rewards")
    spendable = page.get_by_test_id("rewards-spendable").inner_text()
    assert "۹۰۰" in spendable and digits(spendable) == 900
    shot(page, "rewards_phone_fa_catalog")
    context.close()

    for language, header in (("en", "en-US,en;q=0.9"), ("fa", "fa-IR,fa;q=0.9")):
        desktop = browser.new_context(viewport=DESKTOP, extra_http_headers={
            "Accept-Language": header})
        page = desktop.new_page()
        sign_in(page, hub, "sara@example.com", f"rewards_desktop_{language}")
        page.goto(f"{hub.base}/wallet/rewards")
        shot(page, f"rewards_desktop_{language}_catalog")
        page.goto(f"{hub.base}/wallet/rewards/{world['coffee']}")
        shot(page, f"rewards_desktop_{language}_reward")
        page.goto(f"{hub.base}/wallet/my-rewards")
        page.click("[data-testid^=my-reward-]")
        shot(page, f"rewards_desktop_{language}_coupon")
        desktop.close()
    assert verify(pg_db) == []
