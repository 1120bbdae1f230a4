"""The console's campaign form, simulation and tiers in a real browser (Debian's headless
Chromium, Playwright, a real uvicorn and PostgreSQL), in English and Persian, desktop and phone.

An operator opens a new campaign, saves it with a multiplier of 0 (the error is shown beside
the field, the typed values stay, nothing is written), fixes it and saves a draft; simulates it
over last month's real earns; edits it, simulates the unsaved edit, saves it; reads the tier
ladder and its distribution. Support reads the list but has no form, and the server refuses
its POST (403). Screenshots go to tests/artifacts/console_campaign_*.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from network import audit
from network.clock import utcnow
from network.db.engine import Database
from network.ledger.earning import earn
from network.programme import store
from partners.registry import create_partner
from partners.terms import Terms

# `hub` serves the `world` below (pytest looks fixtures up from this module first).
from tests.e2e.test_console_browser import context, hub, shot, sign_in  # noqa: F401
from tests.e2e.test_wallet_browser import ARTIFACTS, DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw


def _last_month(now: dt.datetime) -> dt.datetime:
    """Noon on the 10th of last month (UTC, the hub's zone here)."""
    first = now.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    return (first - dt.timedelta(days=1)).replace(day=10)


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    """Café (clearing price 0.5) with three earns last month: base 100 and 300 for one member,
    200 for another."""
    cafe = pg_db.write(lambda c: create_partner(
        c, code="cafe", name="Café Roma", name_fa="کافه رما",
        now=utcnow() - dt.timedelta(days=400),
        terms=Terms(earn_points_per_unit=Decimal("10"),
                    clearing_price_per_point=Decimal("0.5")))).id
    m1, m2 = ww.enrol(pg_db, by=cafe), ww.enrol(pg_db, by=cafe)
    at = _last_month(utcnow())
    for n, (member, amount, points) in enumerate(((m1, 1000, 100), (m2, 2000, 200),
                                                  (m1, 3000, 300))):
        earn(pg_db, scope="test", idempotency_key=f"e{n}", issuer_id=cafe, member_id=member,
             points=points, details={"amount_minor": amount, "currency": "EUR"},
             now=at + dt.timedelta(days=n))
    return {"cafe": cafe}


def _digits(text: str, language: str) -> str:
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) if language == "fa" \
        else text


def _fill_new(page: Page, code: str, language: str) -> None:
    page.fill("#f-code", code)
    page.fill("#f-nameEn", "Double coffee points")
    page.fill("#f-nameFa", "امتیاز دوبرابر قهوه")
    page.select_option("#f-effect-kind", "multiplier")
    page.fill("#f-effect-factor", _digits("0", language))
    page.select_option("#f-funder-0-party", "cafe")
    page.fill("#f-funder-0-share", _digits("50", language))
    page.select_option("#f-funder-1-party", "network")
    page.fill("#f-funder-1-share", _digits("50", language))
    page.check("input[name='conditions.partners'][value=cafe]")
    page.fill("#f-limits-budgetPoints", _digits("100000", language))


@pytest.mark.browser
@pytest.mark.parametrize(("size", "language"), [(DESKTOP, "en"), (PHONE, "fa"),
                                                (PHONE, "en"), (DESKTOP, "fa")])
def test_an_operator_writes_simulates_and_edits_a_campaign(
        hub: Hub, browser: Browser, pg_db: Database, size: dict[str, int],  # noqa: F811
        language: str) -> None:
    name = f"campaign_{'phone' if size == PHONE else 'desktop'}_{language}"
    code = f"double-{language}-{size['width']}"
    olga = bw.person(pg_db, "operator", f"olga-{language}@example.com")
    page = context(browser, size, language).new_page()
    sign_in(page, hub, olga, name)
    page.get_by_test_id("nav-nav_campaigns").click()
    page.get_by_test_id("campaign-new").click()
    expect(page.get_by_test_id("campaign-form")).to_be_visible()
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    _fill_new(page, code, language)
    page.get_by_test_id("campaign-save").click()

    problem = page.locator("[data-field='effect.factor'][data-code=MULTIPLIER_OUT_OF_RANGE]")
    expect(problem).to_be_visible()
    expect(page.get_by_test_id("form-problems")).to_be_visible()
    expect(page.locator("#f-nameFa")).to_have_value("امتیاز دوبرابر قهوه")  # kept
    expect(page.locator("#f-funder-1-party")).to_have_value("network")
    shot(page, f"{name}_error")
    problem.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"console_{name}_error_field.png"))
    assert pg_db.read(store.list_campaigns) == []

    page.fill("#f-effect-factor", _digits("2", language))
    page.get_by_test_id("campaign-save").click()
    row = page.locator(f"[data-campaign='{code}']")
    expect(row).to_have_attribute("data-status", "draft")
    shot(page, f"{name}_saved")

    page.get_by_test_id(f"simulate-{code}").click()
    page.get_by_test_id("simulation-run").click()
    result = page.get_by_test_id("simulation-result")
    expect(result).to_be_visible()
    # x2 of base 100 + 200 + 300: 600 points, half each; the café's 300 at 0.5 = 150 EUR.
    expect(page.get_by_test_id("sim-points")).to_have_text(_digits("600", language))
    expect(page.get_by_test_id("sim-members")).to_have_text(_digits("2", language))
    expect(page.locator("[data-funder=cafe]")).to_have_attribute("data-points", "300")
    assert Decimal(page.locator("[data-funder=cafe]").get_attribute("data-value") or "") == 150
    shot(page, f"{name}_simulation")

    page.get_by_test_id("nav-nav_campaigns").click()
    page.get_by_test_id(f"edit-{code}").click()
    expect(page.locator("#f-effect-factor")).to_have_value("2")
    page.fill("#f-effect-factor", _digits("1.5", language))
    page.get_by_test_id("campaign-simulate").click()  # the unsaved edit
    expect(page.get_by_test_id("sim-points")).to_have_text(_digits("300", language))
    shot(page, f"{name}_draft_simulation")
    assert str(pg_db.read(store.get, code).campaign.effect.factor) == "2"  # nothing saved
    page.go_back()
    page.fill("#f-effect-factor", "1.5")
    page.get_by_test_id("campaign-save").click()
    expect(page.locator(f"[data-campaign='{code}']")).to_be_visible()
    assert str(pg_db.read(store.get, code).campaign.effect.factor) == "1.5"

    page.get_by_test_id("nav-nav_tiers").click()
    expect(page.get_by_test_id("tier-ladder").locator("[data-tier=gold]")).to_have_attribute(
        "data-threshold", "10000")
    expect(page.get_by_test_id("tier-distribution").locator("[data-tier=blue]")
           ).to_have_attribute("data-members", "2")
    shot(page, f"{name}_tiers")
    logged = pg_db.read(lambda c: audit.entries(c, subject=f"campaign:{code}"))
    assert [(e.action, e.actor_id) for e in logged] == [
        ("campaign.created", str(olga.id)), ("campaign.edited", str(olga.id))]
    assert logged[1].before["effect"]["factor"] == "2"
    assert logged[1].after["effect"]["factor"] == "1.5"

    ana = bw.person(pg_db, "support", f"ana-{language}@example.com")
    other = context(browser, size, language).new_page()
    sign_in(other, hub, ana, f"{name}_support")
    other.get_by_test_id("nav-nav_campaigns").click()
    expect(other.locator(f"[data-campaign='{code}']")).to_be_visible()
    expect(other.get_by_test_id("campaign-new")).to_have_count(0)
    shot(other, f"{name}_support_list")
    token = other.locator("input[name=csrf]").first.get_attribute("value")
    posted = other.request.post(f"{hub.base}/console/campaigns/new",
                                form={"csrf": token or "", "code": "sneaky", "nameEn": "x"},
                                headers={"Origin": hub.base}, max_redirects=0)
    assert posted.status == 403
    opened = other.goto(f"{hub.base}/console/campaigns/{code}/edit")
    assert opened is not None and opened.status == 403
    assert [s.campaign.code for s in pg_db.read(store.list_campaigns)] == [code]
