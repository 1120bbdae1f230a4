"""The console's simulation of a campaign that issues a catalog reward, in a real browser (Debian's
headless Chromium, a real uvicorn and PostgreSQL), English and Persian, phone and desktop.

Last month the café booked three earns; the draft gives the shop's coupon (price 300, 2 left)
on each café purchase, funded by the café: the page shows 2 coupons issued (600 points,
honoured by the shop), the stock running out at the second earn, and the third earn skipped as
REWARD_OUT_OF_STOCK. Screenshots: $POINTSNET_SHOTS/sim (tests/e2e/shots.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, expect

from network.clock import utcnow
from network.db.engine import Database
from network.ledger.earning import earn
from network.programme import rewards_store, store
from network.programme.campaigns import Campaign, IssueReward, Trigger, sole_funder
from network.programme.rewards import RewardSpec
from partners.registry import create_partner
from partners.terms import Terms

# `hub` serves the `world` below (pytest looks fixtures up from this module first).
from tests.e2e.shots import shooter
from tests.e2e.test_console_browser import context, hub, sign_in  # noqa: F401
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw

shot = shooter("sim")


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    long_ago = utcnow() - dt.timedelta(days=400)
    cafe, shop = (pg_db.write(lambda c, code=code, name=name, fa=fa: create_partner(
        c, code=code, name=name, name_fa=fa, now=long_ago, terms=Terms(
            earn_points_per_unit=Decimal("10"), clearing_price_per_point=Decimal("0.5")))).id
        for code, name, fa in (("cafe", "Café Roma", "کافه رما"),
                               ("shop", "Book Shop", "کتاب‌فروشی")))
    reward = rewards_store.create(pg_db, partner_id=shop, spec=RewardSpec(
        kind="coupon", name_en="Free tote bag", name_fa="کیف پارچه‌ای رایگان", price_points=300,
        stock=2), scope="staff:1", idempotency_key="r1")
    rewards_store.set_status(pg_db, partner_id=shop, reward_id=reward.id, status="active",
                             scope="staff:1", idempotency_key="s1")
    first = utcnow().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    last_month = (first - dt.timedelta(days=1)).replace(day=10)
    for n in range(3):
        member = ww.enrol(pg_db, by=cafe)
        earn(pg_db, scope="test", idempotency_key=f"e{n}", issuer_id=cafe, member_id=member,
             points=100, details={"amount_minor": 1000, "currency": "EUR"},
             now=last_month + dt.timedelta(days=n))
    pg_db.write(store.create, Campaign(
        0, "tote-gift", "Tote bag with every coffee", "کیف با هر قهوه", Trigger("purchase"),
        IssueReward(reward.id), sole_funder(cafe), utcnow()), owner_party_id=cafe)
    return {"cafe": cafe, "shop": shop, "reward": reward.id}


@pytest.mark.browser
@pytest.mark.parametrize(("size", "language"), [(DESKTOP, "en"), (PHONE, "fa"),
                                                (PHONE, "en"), (DESKTOP, "fa")])
def test_the_simulation_shows_the_rewards_issued_and_the_stock_running_out(
        hub: Hub, browser: Browser, pg_db: Database, world: dict[str, int],  # noqa: F811
        size: dict[str, int], language: str) -> None:
    name = f"simulation_reward_{'phone' if size == PHONE else 'desktop'}_{language}"
    olga = bw.person(pg_db, "operator", f"olga-{language}-{size['width']}@example.com")
    page = context(browser, size, language).new_page()
    sign_in(page, hub, olga, name)
    page.goto(f"{hub.base}/console/campaigns/simulation?campaign=tote-gift&period=last-month")
    expect(page.get_by_test_id("simulation-result")).to_be_visible()
    row = page.get_by_test_id("simulation-rewards").locator(f"[data-reward='{world['reward']}']")
    expect(row).to_have_attribute("data-count", "2")
    expect(row).to_have_attribute("data-points", "600")
    assert row.get_attribute("data-stock-out")  # the second earn took the last one
    expect(row).to_contain_text("کیف پارچه‌ای رایگان" if language == "fa" else "Free tote bag")
    expect(row).to_contain_text("کتاب‌فروشی" if language == "fa" else "Book Shop")
    expect(page.get_by_test_id("simulation-skipped")).to_contain_text("REWARD_OUT_OF_STOCK")
    expect(page.locator("[data-funder=cafe]")).to_have_attribute("data-points", "600")
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shot(page, name)
