"""The till, the portal's webhooks and the console's rewards in real Chromium (Debian's,
headless) against a real uvicorn and PostgreSQL.

A cashier on a phone checks and uses a member's coupon in English, is told by name when it is
used again or belongs to another partner; a second cashier does the same in Persian. A manager
creates a webhook endpoint and sees its secret once; an operator pauses a reward and reads a
member's tier history. The cashier cannot open the webhooks page.

Screenshots go to tests/artifacts/shots/i19more/ (or $POINTSNET_SHOTS) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from network import audit, parties
from network.clock import utcnow
from network.db.engine import Database
from network.programme import rewards_buy, rewards_store
from network.programme.rewards import RewardSpec
from network.programme.tiers_schema import tier_changes
from partners import webhooks
from tests.e2e.shots import shooter, shots_dir
from tests.e2e.test_console_browser import context, fresh_code
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.support import ledger_world as w

DAY = dt.timedelta(days=1)
SHOTS = shots_dir("i19more")


shot = shooter("i19more")


def _reward(db: Database, partner: int, en: str, fa: str, price: int) -> int:
    made = rewards_store.create(db, partner_id=partner, spec=RewardSpec(
        kind="coupon", name_en=en, name_fa=fa, price_points=price), scope="t",
        idempotency_key=w.key())
    rewards_store.set_status(db, partner_id=partner, reward_id=made.id, status="active",
                             scope="t", idempotency_key=w.key())
    return made.id


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    now = utcnow()
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop",
                                                name="Online Shop", name_fa="فروشگاه آنلاین"))
    sara = ww.enrol(pg_db, email="sara@example.com", name="Sara", by=cafe)
    ww.earn(pg_db, cafe, sara, 5000, at=now - 20 * DAY, reference="RCPT-1")
    coffee = _reward(pg_db, cafe, "Free cappuccino", "کاپوچینوی رایگان", 1200)
    tote = _reward(pg_db, shop, "Tote bag", "کیف پارچه‌ای", 800)

    def code(reward: int) -> str:
        return rewards_buy.buy(pg_db, member_id=sara, reward_id=reward, idempotency_key=w.key(),
                               secret=ww.SECRET, now=now - DAY).code or ""

    pg_db.write(lambda c: c.execute(tier_changes.insert().values(
        member_id=sara, from_tier="blue", to_tier="silver", changed_at=now - 20 * DAY,
        reason="earn", earned=5000, partner_id=cafe)))
    return {"cafe": cafe, "shop": shop, "sara": sara, "coffee": coffee,
            "codes": [code(coffee), code(coffee)], "tote_code": code(tote)}


@pytest.fixture
def hub(pg_db: Database, world: dict[str, object]) -> Iterator[Hub]:
    with Hub(pg_db) as server:
        yield server


def sign_in(page: Page, hub: Hub, who: bw.Person, door: str) -> None:
    page.goto(f"{hub.base}{door}/signin")
    page.fill("#login", who.login)
    page.fill("#password", who.password)
    page.fill("#code", fresh_code(who))
    page.get_by_test_id("bo-sign-in").click()
    expect(page).not_to_have_url(f"{hub.base}{door}/signin")


def _till(page: Page, code: str) -> None:
    page.fill("#code", code)
    page.get_by_test_id("till-check-submit").click()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_cashier_uses_a_coupon_at_the_till(hub: Hub, browser: Browser,
                                             pg_db: Database, world: dict,
                                             language: str) -> None:
    cashier = bw.person(pg_db, "cashier", f"till-{language}@cafe.example",
                        partner_id=world["cafe"])
    page = context(browser, PHONE, language).new_page()
    sign_in(page, hub, cashier, "/partner")
    page.get_by_test_id("nav-nav_p_till").click()
    expect(page).to_have_url(f"{hub.base}/partner/till")
    shot(page, f"till_phone_{language}_empty")
    code = world["codes"][0 if language == "en" else 1]
    _till(page, code.lower().replace("-", " "))  # as a person types it off a phone
    expect(page.get_by_test_id("till-valid")).to_be_visible()
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.get_by_test_id("till-coupon")).to_contain_text("کاپوچینوی رایگان")
        expect(page.get_by_test_id("till-coupon")).to_contain_text("۱٬۲۰۰")
    else:
        expect(page.get_by_test_id("till-coupon")).to_contain_text("Free cappuccino")
    shot(page, f"till_phone_{language}_checked")
    page.get_by_test_id("till-use-submit").click()
    expect(page.get_by_test_id("till-used")).to_be_visible()
    shot(page, f"till_phone_{language}_used")
    assert pg_db.read(lambda c: rewards_buy.find_coupon(c, None, code)).status == "used"
    # The same code again, then another partner's: each refusal by name.
    _till(page, code)
    expect(page.locator("[data-code=COUPON_ALREADY_USED]")).to_be_visible()
    shot(page, f"till_phone_{language}_already_used")
    _till(page, world["tote_code"])
    expect(page.locator("[data-code=COUPON_OTHER_PARTNER]")).to_be_visible()
    assert pg_db.read(lambda c: rewards_buy.find_coupon(c, None, world["tote_code"])
                      ).status == "issued"
    logged = pg_db.read(lambda c: audit.entries(c, action="coupon.redeem"))
    assert [e.actor_id for e in logged] == [str(cashier.id)]
    # A cashier does not open the webhooks page.
    opened = page.goto(f"{hub.base}/partner/webhooks")
    assert opened is not None and opened.status == 403
    desk = context(browser, DESKTOP, language).new_page()
    other = bw.person(pg_db, "manager", f"desk-{language}@cafe.example",
                      partner_id=world["cafe"])
    sign_in(desk, hub, other, "/partner")
    desk.goto(f"{hub.base}/partner/till")
    _till(desk, world["tote_code"])
    expect(desk.locator("[data-code=COUPON_OTHER_PARTNER]")).to_be_visible()
    shot(desk, f"till_desktop_{language}_other_partner")


@pytest.mark.browser
def test_webhooks_and_rewards_pages(hub: Hub, browser: Browser,
                                    pg_db: Database, world: dict) -> None:
    for language, size, name in (("en", DESKTOP, "desktop"), ("fa", PHONE, "phone")):
        manager = bw.person(pg_db, "manager", f"wh-{language}@cafe.example",
                            partner_id=world["cafe"])
        page = context(browser, size, language).new_page()
        sign_in(page, hub, manager, "/partner")
        page.get_by_test_id("nav-nav_p_webhooks").click()
        page.fill("#wh-url", f"https://hooks.example.com/{language}")
        page.get_by_test_id("wh-create").locator("input[name=events][value='coupon.used']").check()
        page.get_by_test_id("wh-create-submit").click()
        expect(page.get_by_test_id("wh-secret-value")).to_contain_text("whsec_")
        shot(page, f"webhooks_{name}_{language}_created")
        pg_db.write(lambda c: webhooks.emit(c, world["cafe"], webhooks.COUPON_USED,
                                            {"coupon": "demo"}))
        page.goto(f"{hub.base}/partner/webhooks")
        expect(page.get_by_test_id("wh-secret")).to_have_count(0)
        expect(page.locator("tr[data-delivery]").first).to_be_visible()
        shot(page, f"webhooks_{name}_{language}_list")

        operator = bw.person(pg_db, "operator", f"op-{language}@example.com")
        console = context(browser, size, language).new_page()
        sign_in(console, hub, operator, "/console")
        console.goto(f"{hub.base}/console/rewards")
        shot(console, f"rewards_{name}_{language}")
        console.goto(f"{hub.base}/console/members/{world['sara']}")
        expect(console.get_by_test_id("tier-history")).to_be_visible()
        console.get_by_test_id("tier-history").scroll_into_view_if_needed()
        shot(console, f"member_{name}_{language}")
        console.locator("section[aria-labelledby=tiers-h]").screenshot(
            path=str(SHOTS / f"member_tiers_{name}_{language}.png"))
    console.goto(f"{hub.base}/console/rewards")
    console.get_by_test_id(f"reward-{world['coffee']}-paused").click()
    expect(console.locator(f"tr[data-reward='{world['coffee']}']")).to_have_attribute(
        "data-status", "paused")
    assert pg_db.read(rewards_store.get, world["coffee"]).status == "paused"
