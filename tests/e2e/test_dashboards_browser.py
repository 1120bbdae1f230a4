"""Dashboards, the finance page and the partner portal in real Chromium (Debian's, headless)
against a real uvicorn and PostgreSQL, in English and Persian, on desktop and phone.

Finance staff read the network's KPIs, a partner's, and last month's settlement; a viewer reads
the Persian dashboard and is refused the finance page; a partner's manager sees only their own
partner's transactions, dashboard and statement, whatever they type in the URL; a cashier is
refused every page but the till's.

Screenshots go to tests/artifacts/shots/i19dash/ (or $POINTSNET_SHOTS) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from playwright.sync_api import Browser, expect

from network import ledger, parties
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from partners import keys as api_keys
from partners.contracts import add_contract
from partners.terms import Terms
from settlement import run as settlement_run
from settlement.kpis import rollup
from settlement.period import Period
from tests.e2e.shots import shooter
from tests.e2e.test_backoffice_till_browser import sign_in
from tests.e2e.test_console_browser import context
from tests.e2e.test_wallet_browser import DESKTOP, PHONE, Hub
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw

DAY = dt.timedelta(days=1)


shot = shooter("i19dash")


@pytest.fixture
def world(pg_db: Database) -> dict[str, object]:
    now = utcnow()
    this_month = Period(now.year, now.month)
    last = this_month.previous()
    mid_last = dt.datetime(last.year, last.month, 15, 12, tzinfo=dt.UTC)
    made = {}
    for code, name, name_fa in (("cafe", "Café Roma", "کافه رما"), ("shop", "Online Shop",
                                                                     "فروشگاه آنلاین"),
                                ("pharmacy", "Mahak Pharmacy", "داروخانه ماهک")):
        made[code] = pg_db.write(lambda c, a=code, b=name, f=name_fa: parties.create(
            c, kind="partner", code=a, name=b, name_fa=f))
        pg_db.write(lambda c, p=made[code]: add_contract(
            c, p, Terms(Decimal(1), clearing_price_per_point=Decimal("0.5")),
            effective_from=now - 400 * DAY, now=now - 400 * DAY))
    made["kids"] = pg_db.write(lambda c: parties.create(c, kind="charity", code="kids",
                                                        name="Kids Fund", name_fa="بنیاد کودک"))
    cafe, shop, pharmacy = made["cafe"], made["shop"], made["pharmacy"]
    people = [ww.enrol(pg_db, email=f"m{i}@example.com", name=f"Member {i}",
                       by=(cafe, shop, pharmacy)[i % 3], now=mid_last - (3 - i % 3) * DAY)
              for i in range(9)]
    for i, member in enumerate(people):
        issuer = (cafe, shop, pharmacy)[i % 3]
        ww.earn(pg_db, issuer, member, 3000 + 400 * i, at=mid_last, reference=f"LAST-{i}")
        for d in range(0, 28, 4):
            ww.earn(pg_db, issuer, member, 120 + 15 * i + d,
                    at=now - (d + i % 4) * DAY - dt.timedelta(hours=1),
                    reference=f"R-{i}-{d}")
        burn = (shop, pharmacy, cafe)[i % 3]
        ledger.redeem(pg_db, scope="t", idempotency_key=f"old-{i}", partner_id=burn,
                      member_id=member, points=500 + 50 * i, now=mid_last + DAY)
        ledger.redeem(pg_db, scope="t", idempotency_key=f"new-{i}", partner_id=burn,
                      member_id=member, points=200 + 30 * i, now=now - (i + 1) * DAY,
                      reference=f"BURN-{i}")
    ledger.donate(pg_db, scope="t", idempotency_key="give", member_id=people[0],
                  charity_id=made["kids"], points=300, now=mid_last + 2 * DAY)
    settings = Settings(database_url=pg_db.url, env="development", secret_key=ww.SECRET)
    settlement_run.close(pg_db, settings, str(last), now=now)
    shop_key = pg_db.write(lambda c: api_keys.create_key(c, party_id=shop, now=now,
                                                         label="web shop"))[0]
    pg_db.write(lambda c: api_keys.create_key(c, party_id=cafe, now=now, label="till 1"))
    rollup.refresh(pg_db, now, "UTC")
    return {**made, "period": str(last), "shop_key": shop_key.key_id}


@pytest.fixture
def hub(pg_db: Database, world: dict[str, object]) -> Iterator[Hub]:
    with Hub(pg_db) as server:
        yield server


@pytest.mark.browser
def test_finance_reads_the_dashboards_and_the_month(
        hub: Hub, browser: Browser, pg_db: Database, world: dict) -> None:
    fiona = bw.person(pg_db, "finance", "fiona@example.com")
    page = context(browser, DESKTOP, "en").new_page()
    sign_in(page, hub, fiona, "/console")
    page.get_by_test_id("nav-nav_dashboards").click()
    expect(page.get_by_test_id("kpis")).to_contain_text("Points issued")
    expect(page.get_by_test_id("chart-series").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("chart-matrix").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("table-liability")).to_contain_text("Online Shop")
    shot(page, "dashboard_desktop_en")
    with page.expect_download() as download:
        page.get_by_test_id("csv-matrix").click()
    exported = Path(download.value.path()).read_text("utf-8")
    assert exported.splitlines()[0].startswith("Earned at,")
    page.select_option("#partner", "cafe")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("h1")).to_have_text("Dashboard: Café Roma")
    expect(page.get_by_test_id("kpis")).to_contain_text("Points redeemed here")
    shot(page, "dashboard_partner_desktop_en")

    page.get_by_test_id("nav-nav_finance").click()
    expect(page.get_by_test_id("run-status")).to_contain_text("closed")
    expect(page.get_by_test_id("chart-obligations").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("reconciled")).to_be_visible()
    expect(page.get_by_test_id("table-positions")).to_contain_text("Kids Fund")
    shot(page, "finance_desktop_en")

    phone = context(browser, PHONE, "fa").new_page()
    sign_in(phone, hub, fiona, "/console")
    phone.goto(f"{hub.base}/console/finance")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    shot(phone, "finance_phone_fa")


@pytest.mark.browser
@pytest.mark.parametrize(("size", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_a_viewer_reads_the_persian_dashboard_but_not_the_money(
        hub: Hub, browser: Browser, pg_db: Database, world: dict,
        size: dict[str, int], name: str) -> None:
    viewer = bw.person(pg_db, "viewer", f"viewer-{name}@example.com")
    page = context(browser, size, "fa").new_page()
    sign_in(page, hub, viewer, "/console")
    page.goto(f"{hub.base}/console/dashboards")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    kpis = page.get_by_test_id("kpis").inner_text()
    assert any(ch in kpis for ch in "۰۱۲۳۴۵۶۷۸۹") and not any(ch in kpis for ch in "0123456789")
    chart = page.get_by_test_id("chart-series").inner_html()
    assert any(month in chart for month in ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد",
                                            "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن",
                                            "اسفند"))
    shot(page, f"dashboard_{name}_fa")
    assert page.get_by_test_id("nav-nav_finance").count() == 0
    refused = page.goto(f"{hub.base}/console/finance")
    assert refused is not None and refused.status == 403
    shot(page, f"finance_refused_{name}_fa")
    english = context(browser, size, "en").new_page()
    sign_in(english, hub, viewer, "/console")
    english.goto(f"{hub.base}/console/dashboards")
    expect(english.get_by_test_id("kpis")).to_contain_text("Active members, 30 days")
    shot(english, f"dashboard_{name}_en")


@pytest.mark.browser
def test_a_partner_manager_sees_only_their_partner(
        hub: Hub, browser: Browser, pg_db: Database, world: dict) -> None:
    mina = bw.person(pg_db, "manager", "mina@cafe.example", partner_id=world["cafe"])
    page = context(browser, PHONE, "en").new_page()
    sign_in(page, hub, mina, "/partner")
    expect(page).to_have_url(f"{hub.base}/partner/transactions")
    table = page.get_by_test_id("tx-table")
    expect(table).to_contain_text("R-0-0")  # member 0 earned at the café
    assert "R-1-" not in table.inner_text()  # member 1 earned at the shop
    shot(page, "portal_transactions_phone_en")
    # Another partner's data by URL: the dashboard stays the café's, the key is not there.
    page.goto(f"{hub.base}/partner/dashboard?partner=shop")
    expect(page.locator("h1")).to_have_text("Dashboard: Café Roma")
    shot(page, "portal_dashboard_phone_en")
    page.goto(f"{hub.base}/partner/keys")
    expect(page.get_by_test_id("keys-table")).to_contain_text("till 1")
    assert world["shop_key"] not in page.content()
    shot(page, "portal_keys_phone_en")
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    posted = page.request.post(f"{hub.base}/partner/keys/{world['shop_key']}/revoke",
                               form={"csrf": token or ""}, headers={"Origin": hub.base},
                               max_redirects=0)
    assert posted.status == 404
    assert pg_db.read(api_keys.find_key, world["shop_key"]).revoked_at is None
    page.goto(f"{hub.base}/partner/statements")
    expect(page.get_by_test_id("statements")).to_contain_text(world["period"])
    shot(page, "portal_statements_phone_en")
    statement = page.request.get(f"{hub.base}/partner/statements/{world['period']}.csv")
    assert statement.status == 200 and "cafe" in statement.headers["content-disposition"]
    signature = page.request.get(f"{hub.base}/partner/statements/{world['period']}.csv.sig")
    pem = page.request.get(f"{hub.base}/partner/statements/hub-statement-key.pem")
    key = load_pem_public_key(pem.body())
    assert isinstance(key, Ed25519PublicKey)
    key.verify(signature.body(), statement.body())  # raises if the signature does not match
    rows = [line.split(",") for line in statement.text().splitlines()[1:] if line]
    assert rows and {row[1] for row in rows} == {"cafe"}  # the café's statement, no other
    assert page.goto(f"{hub.base}/console/dashboards").status == 403

    desk = context(browser, DESKTOP, "fa").new_page()
    sign_in(desk, hub, mina, "/partner")
    desk.goto(f"{hub.base}/partner/dashboard")
    expect(desk.locator("html")).to_have_attribute("dir", "rtl")
    expect(desk.locator("h1")).to_contain_text("کافه رما")
    shot(desk, "portal_dashboard_desktop_fa")


@pytest.mark.browser
def test_a_cashier_cannot_open_operator_or_manager_pages(
        hub: Hub, browser: Browser, pg_db: Database, world: dict) -> None:
    carl = bw.person(pg_db, "cashier", "carl@cafe.example", partner_id=world["cafe"])
    page = context(browser, PHONE, "fa").new_page()
    sign_in(page, hub, carl, "/partner")
    expect(page).to_have_url(f"{hub.base}/partner/transactions")
    assert page.get_by_test_id("nav-nav_p_keys").count() == 0
    shot(page, "portal_cashier_phone_fa")
    for url in ("/console/members", "/console/dashboards", "/console/audit", "/partner/keys",
                "/partner/dashboard"):
        opened = page.goto(f"{hub.base}{url}")
        assert opened is not None and opened.status == 403, url
    expect(page.get_by_test_id("bo-error")).to_be_visible()
    shot(page, "portal_cashier_refused_phone_fa")
