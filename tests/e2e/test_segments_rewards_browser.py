"""The console's segments and the partner portal's rewards in real Chromium (Debian's,
headless) against a real uvicorn and PostgreSQL, in English and Persian, on desktop and phone.

An operator creates a static segment, imports a list with a bad line (named by its number,
nothing imported), then a good one, and reads the members by their last four digits; a rule
that is not JSON is refused beside its input, a good one gets its members at once and is
refreshed. Every change is in the audit log. A partner's manager reads their rewards and how
they did, all time and for one month, never another partner's.

Screenshots go to tests/artifacts/shots/seg19/ (or $POINTSNET_SHOTS) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from network import audit, parties
from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import members
from network.programme import rewards_buy
from tests.e2e.shots import shooter
from tests.e2e.test_backoffice_till_browser import _reward, hub, sign_in  # noqa: F401
from tests.e2e.test_console_browser import context
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.support import ledger_world as w

DAY = dt.timedelta(days=1)
SIZES = {"desktop": DESKTOP, "phone": PHONE}


shot = shooter("seg19")


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    now = utcnow()
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe",
                                                name="Café Roma", name_fa="کافه رما"))
    shop = pg_db.write(lambda c: parties.create(c, kind="partner", code="shop",
                                                name="Online Shop", name_fa="فروشگاه آنلاین"))
    sara = ww.enrol(pg_db, email="sara@example.com", name="Sara", by=cafe)
    reza = ww.enrol(pg_db, email="reza@example.com", name="Reza", by=cafe)
    ww.earn(pg_db, cafe, sara, 5000, at=now - 20 * DAY, reference="RCPT-1")
    ww.earn(pg_db, cafe, reza, 300, at=now - 20 * DAY, reference="RCPT-2")
    coffee = _reward(pg_db, cafe, "Free cappuccino", "کاپوچینوی رایگان", 1200)
    tote = _reward(pg_db, shop, "Tote bag", "کیف پارچه‌ای", 800)
    bought = [rewards_buy.buy(pg_db, member_id=sara, reward_id=reward, idempotency_key=w.key(),
                              secret=ww.SECRET, now=now - 2 * DAY)
              for reward in (coffee, coffee, tote)]
    rewards_buy.redeem_coupon(pg_db, partner_id=cafe, code=bought[0].code or "", scope="t",
                              idempotency_key=w.key(), now=now - DAY)
    card = dict(pg_db.read(lambda c: c.execute(
        select(members.c.id, members.c.card_number)).tuples().all()))
    return {"cafe": cafe, "shop": shop, "coffee": coffee, "tote": tote,
            "cards": [card[sara], card[reza]], "month": f"{now - 2 * DAY:%Y-%m}"}


def _digits(text: str, language: str) -> str:
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) if language == "fa" \
        else text


@pytest.mark.browser
@pytest.mark.parametrize(("language", "size"), [("en", "desktop"), ("fa", "phone")])
def test_an_operator_makes_imports_and_refreshes_segments(
        hub: Hub, browser: Browser, pg_db: Database, world: dict,  # noqa: F811
        language: str, size: str, tmp_path: Path) -> None:
    me = bw.person(pg_db, "operator", f"op-{language}@example.com")
    page = context(browser, SIZES[size], language).new_page()
    sign_in(page, hub, me, "/console")
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_test_id("nav-nav_segments").click()
    expect(page).to_have_url(f"{hub.base}/console/segments")
    code = f"vip-{language}"
    page.fill("#code", code)
    page.fill("#name_en", "VIP guests")
    page.fill("#name_fa", "مهمانان ویژه")
    page.get_by_test_id("segment-create").click()
    expect(page).to_have_url(f"{hub.base}/console/segments/{code}?done=created")
    sara, reza = world["cards"]
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(f"card_number\n{sara}\n1234 5678\n")
    good.write_text(f"card_number\n{sara}\n{reza}\n")
    page.set_input_files("#file", str(bad))
    page.get_by_test_id("segment-import").click()
    expect(page.locator("li[data-code=CARD_MALFORMED][data-line='3']")).to_be_visible()
    shot(page, f"segment_{size}_{language}_bad_line")
    page.set_input_files("#file", str(good))
    page.get_by_test_id("segment-import").click()
    expect(page.get_by_test_id("segment-members")).to_have_text(_digits("2", language))
    cards_shown = page.get_by_test_id("segment-cards")
    expect(cards_shown).to_contain_text(_digits(sara[-4:], language))
    expect(cards_shown).not_to_contain_text(_digits(sara[:12], language))
    shot(page, f"segment_{size}_{language}_static")
    # A rule: not JSON first, refused beside its input; then one that finds Sara alone.
    page.get_by_test_id("nav-nav_segments").click()
    rule_code = f"earners-{language}"
    page.fill("#code", rule_code)
    page.fill("#name_en", "Big earners")
    page.fill("#name_fa", "پرامتیازها")
    page.select_option("#kind", "rule")
    page.fill("#rule", "{all: nope")
    page.get_by_test_id("segment-create").click()
    expect(page.locator(".field-error[data-code=RULE_INVALID]")).to_be_visible()
    expect(page.locator("#code")).to_have_value(rule_code)
    shot(page, f"segments_{size}_{language}_rule_refused")
    page.fill("#rule", json.dumps({"all": [{"earned": {"days": 90, "at_least": 1000}}]}))
    page.get_by_test_id("segment-create").click()
    expect(page.get_by_test_id("segment-rule")).to_contain_text("at_least")
    expect(page.get_by_test_id("segment-members")).to_have_text(_digits("1", language))
    page.get_by_test_id("segment-refresh").click()
    expect(page).to_have_url(f"{hub.base}/console/segments/{rule_code}?done=refreshed")
    shot(page, f"segment_{size}_{language}_rule")
    page.get_by_test_id("nav-nav_segments").click()
    expect(page.locator(f"tr[data-segment='{code}']")).to_have_attribute("data-members", "2")
    shot(page, f"segments_{size}_{language}_list")
    logged = sorted(e.action for e in pg_db.read(lambda c: audit.entries(c))
                    if e.actor_id == str(me.id))
    assert logged == ["segment.created", "segment.created", "segment.imported",
                      "segment.refreshed"]
    other = "phone" if size == "desktop" else "desktop"
    page.set_viewport_size(SIZES[other])
    shot(page, f"segments_{other}_{language}_list")
    page.goto(f"{hub.base}/console/segments/{code}")
    shot(page, f"segment_{other}_{language}_static")


@pytest.mark.browser
@pytest.mark.parametrize(("language", "size"), [("fa", "desktop"), ("en", "phone")])
def test_a_manager_reads_their_rewards_and_how_they_did(
        hub: Hub, browser: Browser, pg_db: Database, world: dict,  # noqa: F811
        language: str, size: str) -> None:
    manager = bw.person(pg_db, "manager", f"rw-{language}@cafe.example",
                        partner_id=world["cafe"])
    page = context(browser, SIZES[size], language).new_page()
    sign_in(page, hub, manager, "/partner")
    page.get_by_test_id("nav-nav_p_rewards").click()
    expect(page).to_have_url(f"{hub.base}/partner/rewards")
    row = page.locator(f"tr[data-reward='{world['coffee']}']")
    expect(row).to_have_attribute("data-sold", "2")
    expect(row).to_have_attribute("data-used", "1")
    expect(page.locator(f"tr[data-reward='{world['tote']}']")).to_have_count(0)
    expect(page.get_by_test_id("rewards-api-note")).to_contain_text("createReward")
    shot(page, f"portal_rewards_{size}_{language}_all")
    page.fill("#month", _digits(world["month"], language))
    page.get_by_test_id("rewards-show").click()
    expect(page.get_by_test_id("rewards-period")).to_be_visible()
    expect(row).to_have_attribute("data-sold", "2")
    shot(page, f"portal_rewards_{size}_{language}_month")
    page.fill("#month", "2026-13")
    page.get_by_test_id("rewards-show").click()
    expect(page.locator(".field-error[data-code=PERIOD_INVALID]")).to_be_visible()
    other = "phone" if size == "desktop" else "desktop"
    page.set_viewport_size(SIZES[other])
    page.goto(f"{hub.base}/partner/rewards?month={world['month']}")
    shot(page, f"portal_rewards_{other}_{language}_month")
