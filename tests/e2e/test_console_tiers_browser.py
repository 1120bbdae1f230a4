"""The console's tier ladder form in a real browser (Debian's headless Chromium, Playwright, a
real uvicorn and PostgreSQL), in English and Persian, desktop and phone.

An operator saves the ladder with gold's multiplier at 0 (the error is shown beside the field,
the typed values stay, nothing is written), fixes it to 3 and saves; the ladder in force shows
it, and the edit is audited. Support reads the page with no form, and the server refuses its
POST (403). Screenshots go to tests/artifacts/console_tiers_*.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, expect

from network import audit
from network.clock import utcnow
from network.db.engine import Database
from network.ledger.earning import earn
from network.programme import ladder_store
from network.programme.tiers import DEFINITIONS
from partners.registry import create_partner
from partners.terms import Terms

# `hub` serves the `world` below (pytest looks fixtures up from this module first).
from tests.e2e.test_console_browser import context, hub, shot, sign_in  # noqa: F401
from tests.e2e.test_wallet_browser import ARTIFACTS, DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    """A café and two members with earns, so the distribution has someone in it."""
    cafe = pg_db.write(lambda c: create_partner(
        c, code="cafe", name="Café Roma", name_fa="کافه رما",
        now=utcnow() - dt.timedelta(days=400),
        terms=Terms(earn_points_per_unit=Decimal("10"),
                    clearing_price_per_point=Decimal("0.5")))).id
    for n, points in enumerate((300, 2_500)):
        member = ww.enrol(pg_db, by=cafe)
        earn(pg_db, scope="test", idempotency_key=f"e{n}", issuer_id=cafe, member_id=member,
             points=points, details={"amount_minor": points * 10, "currency": "EUR"})
    return {"cafe": cafe}


def _digits(text: str, language: str) -> str:
    return text.translate(str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")) if language == "fa" \
        else text


@pytest.mark.browser
@pytest.mark.parametrize(("size", "language"), [(DESKTOP, "en"), (PHONE, "fa"),
                                                (PHONE, "en"), (DESKTOP, "fa")])
def test_an_operator_edits_the_ladder_and_support_only_reads_it(
        hub: Hub, browser: Browser, pg_db: Database, size: dict[str, int],  # noqa: F811
        language: str) -> None:
    name = f"tiers_{'phone' if size == PHONE else 'desktop'}_{language}"
    olga = bw.person(pg_db, "operator", f"olga-{language}@example.com")
    page = context(browser, size, language).new_page()
    sign_in(page, hub, olga, name)
    page.get_by_test_id("nav-nav_tiers").click()
    expect(page.get_by_test_id("tier-form")).to_be_visible()
    if language == "fa":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shot(page, f"{name}_form")
    page.fill("#f-tiers-2-earnMultiplier", _digits("0", language))
    page.fill("#f-tiers-4-code", "diamond")
    page.fill("#f-tiers-4-nameEn", "Diamond")
    page.fill("#f-tiers-4-nameFa", "الماس")
    page.fill("#f-tiers-4-threshold", _digits("100000", language))
    page.fill("#f-tiers-4-earnMultiplier", _digits("2.5", language))
    page.get_by_test_id("tier-save").click()

    problem = page.locator(
        "[data-field='tiers[2].earnMultiplier'][data-code=TIER_MULTIPLIER_OUT_OF_RANGE]")
    expect(problem).to_be_visible()
    expect(page.get_by_test_id("form-problems")).to_be_visible()
    expect(page.locator("#f-tiers-4-nameFa")).to_have_value("الماس")  # kept as typed
    expect(page.locator("#f-tiers-4-threshold")).to_have_value(_digits("100000", language))
    shot(page, f"{name}_error")
    problem.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"console_{name}_error_field.png"))
    assert pg_db.read(ladder_store.newest) == DEFINITIONS

    page.fill("#f-tiers-2-earnMultiplier", _digits("3", language))
    page.get_by_test_id("tier-save").click()
    expect(page.locator("p.notice")).to_be_visible()
    ladder_table = page.get_by_test_id("tier-ladder")
    expect(ladder_table.locator("[data-tier=gold]")).to_have_attribute("data-multiplier", "3")
    expect(ladder_table.locator("[data-tier=diamond]")).to_have_attribute(
        "data-threshold", "100000")
    expect(page.get_by_test_id("tier-distribution").locator("[data-tier=blue]")
           ).to_have_attribute("data-members", "2")
    shot(page, f"{name}_saved")
    in_force = pg_db.read(ladder_store.newest)
    assert [t.code for t in in_force][-1] == "diamond"
    assert in_force[2].earn_multiplier == Decimal(3)
    [entry] = pg_db.read(lambda c: audit.entries(c, subject=ladder_store.AUDIT_SUBJECT))
    assert (entry.action, entry.actor_id) == ("tiers.ladder_set", str(olga.id))
    assert entry.before["tiers"][2]["earnMultiplier"] == "1.5"
    assert entry.after["tiers"][2]["earnMultiplier"] == "3"

    ana = bw.person(pg_db, "support", f"ana-{language}@example.com")
    other = context(browser, size, language).new_page()
    sign_in(other, hub, ana, f"{name}_support")
    other.get_by_test_id("nav-nav_tiers").click()
    expect(other.get_by_test_id("tier-ladder").locator("[data-tier=diamond]")).to_be_visible()
    expect(other.get_by_test_id("tier-form")).to_have_count(0)
    shot(other, f"{name}_support")
    token = other.locator("input[name=csrf]").first.get_attribute("value")
    posted = other.request.post(f"{hub.base}/console/tiers",
                                form={"csrf": token or "", "rows": "1", "windowDays": "30",
                                      "tiers[0].code": "everyone"},
                                headers={"Origin": hub.base}, max_redirects=0)
    assert posted.status == 403
    assert pg_db.read(ladder_store.newest) == in_force

